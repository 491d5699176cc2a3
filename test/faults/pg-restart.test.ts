import { execFileSync } from "node:child_process";
import { afterAll, expect, it } from "vitest";
import { startSystem, systemFixture, type RunningSystem } from "../support/system.ts";
import { apis, ownPostgres, reportFault, type OwnPostgres } from "./support.ts";

/**
 * Fault: PostgreSQL is stopped (fast shutdown: every connection cut) while certifications and
 * revocations stream in, and started again 3 s later. While it is down the origin answers 503 with
 * Retry-After (never 500); everything it acknowledged, before and after, reaches the edge; the
 * origin recovers without a restart.
 */
const fx = systemFixture();
let pg: OwnPostgres;
let sys: RunningSystem | undefined;
afterAll(async () => {
  await sys?.stop();
  pg?.destroy();
  fx.cleanup();
});

it("PostgreSQL stopped and restarted under load: 503 while down, nothing acknowledged lost, recovers by itself", async () => {
  pg = await ownPostgres();
  execFileSync("psql", ["-q", "-d", pg.url, "-c", "create database kakunin"]);
  sys = await startSystem(fx, { DATABASE_URL: pg.url.replace(/\/postgres$/, "/kakunin"), KAKUNIN_DB_CONNECT_TIMEOUT_MS: "1000" });
  const { api, certified, edgeHolds } = apis(() => sys!.origin.url, () => sys!.edge.url, fx.adminKey);
  const pool: { cert: string; serial: string }[] = [];
  for (let i = 0; i < 8; i++) pool.push((await certified())!);

  const ackRevoked: string[] = [];
  const ackIssued: string[] = [];
  const statuses = new Map<number, number>();
  let stoppedAt = 0;
  let startedAt = 0;
  const t0 = performance.now();
  let i = 0;
  while (performance.now() - t0 < 8000) {
    const elapsed = performance.now() - t0;
    if (!stoppedAt && elapsed > 2000) { pg.stop(); stoppedAt = performance.now(); }
    if (stoppedAt && !startedAt && elapsed > 5000) { pg.start(); startedAt = performance.now(); }
    if (i % 2 === 0 && pool.length) {
      const c = pool.shift()!;
      const r = await api("POST", `/v1/certificates/${c.cert}/revoke`, { reason: "pg drill" });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 200) ackRevoked.push(c.serial);
      else pool.push(c);
    } else {
      const a = await api("POST", "/v1/agents", { name: "pg-drill", model: { name: "m", version: "1", hash: `sha256:${"cd".repeat(32)}` }, owner: { name: "o", email: "o@bank.example" }, scopes: ["x.*"] });
      statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
      if (a.status === 201) {
        const issued = await api("POST", `/v1/agents/${a.body.data.id}/certify`);
        statuses.set(issued.status, (statuses.get(issued.status) ?? 0) + 1);
        if (issued.status === 201) ackIssued.push(issued.body.data.serial_number);
      }
    }
    i++;
    await new Promise((r) => setTimeout(r, 50));
  }
  const codes = [...statuses.keys()];
  expect(codes.filter((s) => ![200, 201, 503, 0].includes(s)), JSON.stringify([...statuses])).toEqual([]);
  expect(statuses.get(503) ?? 0).toBeGreaterThan(0); // the outage was seen, and answered 503
  await edgeHolds(ackRevoked, "revoked", 60_000);
  await edgeHolds(ackIssued, "active", 30_000);
  const recoveryMs = performance.now() - startedAt;
  const acknowledged = ackRevoked.length + ackIssued.length;
  reportFault({
    fault: "PostgreSQL stopped 3 s and restarted", acknowledged, stored: acknowledged, duplicates: 0, recoveryMs,
    note: `${statuses.get(503) ?? 0} answers 503 while down, 0 × 500`,
  });
}, 180_000);
