import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, expect, it } from "vitest";
import { agentBody, freshPostgresDatabase, postgresUrl } from "../../origin/test/harness.ts";
import { freePort, pollUntil, startEdge, startOrigin, systemFixture, type Proc } from "../support/system.ts";
import { apis, reportFault } from "./support.ts";

/** Seconds of concurrent load; 15 in CI, bench/ runs the full 60 (FAULT_DRILL_S=60). */
const DRILL_S = Number(process.env.FAULT_DRILL_S ?? 15);

/**
 * Fault: two origins on one PostgreSQL database, certifying, revoking and archiving at once. Both
 * publish (outbox rows claimed with SKIP LOCKED + lease), both archive (upload leases) to one
 * archive, both race to certify the same agents. Afterwards: each agent has at most one active
 * certificate, the edge holds every acknowledged state, the audit log of the tenant is contiguous
 * and every entry is archived exactly once.
 */
const fx = systemFixture();
const procs: Proc[] = [];
let drop: (() => Promise<void>) | undefined;
afterAll(async () => {
  for (const p of procs) await p.stop();
  await drop?.();
  fx.cleanup();
});

it.skipIf(!postgresUrl())(`two origins on one PostgreSQL certifying, revoking and archiving at once for ${DRILL_S} s`, async () => {
  const db = await freshPostgresDatabase();
  drop = db.drop;
  const [portA, portB, edgePort] = [await freePort(), await freePort(), await freePort()];
  mkdirSync(join(fx.dir, "edge"), { recursive: true });
  const edge = await startEdge({ port: edgePort, persistDir: join(fx.dir, "edge"), originUrl: `http://127.0.0.1:${portA}`, secret: fx.secret });
  procs.push(edge);
  const env = {
    DATABASE_URL: db.url, KAKUNIN_MASTER_KEY: randomBytes(32).toString("base64"), KAKUNIN_ARCHIVE_DIR: join(fx.dir, "archive"),
    KAKUNIN_ARCHIVE_BATCH: "25", KAKUNIN_ARCHIVE_MAX_AGE_S: "1", KAKUNIN_LOCAL_KEY_POOL: "4",
  };
  const common = { edgeUrl: edge.url, secret: fx.secret, adminKey: fx.adminKey, env };
  const [a, b] = await Promise.all([
    startOrigin({ ...common, port: portA, dataDir: join(fx.dir, "a") }),
    startOrigin({ ...common, port: portB, dataDir: join(fx.dir, "b") }),
  ]);
  procs.push(a, b);
  const A = apis(() => a.url, () => edge.url, fx.adminKey);
  const B = apis(() => b.url, () => edge.url, fx.adminKey);

  const active = new Map<string, string>(); // serial → certificate id, acknowledged active
  const revoked = new Set<string>();
  let raced = 0;
  let doubleIssued = 0;
  const statuses = new Map<number, number>();
  const count = (s: number) => statuses.set(s, (statuses.get(s) ?? 0) + 1);
  const t0 = performance.now();
  const worker = async (me: typeof A, other: typeof B) => {
    while (performance.now() - t0 < DRILL_S * 1000) {
      const ag = await me.api("POST", "/v1/agents", agentBody());
      count(ag.status);
      if (ag.status !== 201) continue;
      // Both origins certify the same agent at once: exactly one may win.
      const [x, y] = await Promise.all([me.api("POST", `/v1/agents/${ag.body.data.id}/certify`), other.api("POST", `/v1/agents/${ag.body.data.id}/certify`)]);
      count(x.status); count(y.status);
      const won = [x, y].filter((r) => r.status === 201);
      raced++;
      if (won.length > 1) doubleIssued++;
      for (const w of won) active.set(w.body.data.serial_number, w.body.data.id);
      // Revoke one certificate acknowledged earlier, through either origin.
      const victim = [...active.entries()].find(([s]) => !revoked.has(s));
      if (victim && Math.random() < 0.6) {
        const r = await (Math.random() < 0.5 ? me : other).api("POST", `/v1/certificates/${victim[1]}/revoke`, { reason: "two origins" });
        count(r.status);
        if (r.status === 200) revoked.add(victim[0]);
      }
    }
  };
  await Promise.all([worker(A, B), worker(B, A)]);
  const loadEnd = performance.now();
  expect([...statuses.keys()].filter((s) => ![200, 201, 409].includes(s)), JSON.stringify([...statuses])).toEqual([]);
  expect(doubleIssued).toBe(0);

  const stillActive = [...active.keys()].filter((s) => !revoked.has(s));
  await A.edgeHolds([...revoked], "revoked", 60_000);
  await A.edgeHolds(stillActive, "active", 30_000);

  const query = (q: string) => execFileSync("psql", ["-At", "-F", ",", "-d", db.url, "-c", q], { encoding: "utf8" }).trim().split("\n").filter(Boolean).map((l) => l.split(","));
  expect(query("select agent_id from certificates where status = 'active' group by agent_id having count(*) > 1")).toEqual([]);
  // Every audit entry sealed once and archived once: ranges contiguous, no overlap, all uploaded.
  const archived = await pollUntil(async () => {
    const heads = query("select tenant_id, size from audit_heads");
    const batches = query("select tenant_id, first_idx, last_idx, archived_at is not null from audit_batches order by tenant_id, first_idx");
    if (batches.some((r) => r[3] !== "t")) return undefined;
    for (const [tenant, size] of heads) {
      let next = 0;
      for (const r of batches.filter((x) => x[0] === tenant)) {
        expect(Number(r[1])).toBe(next); // no gap, no overlap
        next = Number(r[2]) + 1;
      }
      if (next !== Number(size)) return undefined;
    }
    return batches;
  }, 60_000, 500);
  const files = readdirSync(join(fx.dir, "archive"), { recursive: true }).map(String).filter((f) => f.endsWith(".jsonl"));
  expect(new Set(files).size).toBe(archived.value.length);
  const acknowledged = active.size + revoked.size;
  reportFault({
    fault: `two origins on one PostgreSQL (${DRILL_S} s)`, acknowledged, stored: acknowledged, duplicates: doubleIssued,
    recoveryMs: performance.now() - loadEnd,
    note: `${raced} certify races, 0 double issues; ${archived.value.length} archive batches, no overlap`,
  });
}, 240_000);
