import { execFileSync } from "node:child_process";
import { afterAll, expect, it } from "vitest";
import { agentBody } from "../../origin/test/harness.ts";
import { pollUntil, startSystem, systemFixture, type RunningSystem } from "../support/system.ts";
import { apis, ownPostgres, reportFault, type OwnPostgres } from "./support.ts";

/**
 * Fault: PostgreSQL hangs without going down (every server process SIGSTOPped: a frozen VM, a
 * storage stall, a blackholed network) for 20 s while agents are created and certified by several
 * clients at once, certificates revoked and an agent's events taken by the edge, then resumes (SIGCONT). Sockets stay open and nothing answers, so only the
 * origin's own timeouts end the requests under way.
 *
 * Asserted: every answer is 2xx or a 503 problem with Retry-After, within a bound (no request hangs
 * until the client gives up); after SIGCONT the origin takes writes again by itself within seconds,
 * with no connection left idle inside a transaction; every acknowledged agent is stored once with
 * one `agent.created` entry, and no request answered 503 had its writes committed by someone else;
 * every acknowledged revocation reaches the edge and every event the edge acknowledged is stored once.
 */
const HANG_MS = 20_000;
const fx = systemFixture();
let pg: OwnPostgres;
let sys: RunningSystem | undefined;
afterAll(async () => {
  pg?.resume();
  await sys?.stop();
  pg?.destroy();
  fx.cleanup();
});

it("PostgreSQL hung (SIGSTOP) under concurrent writes: bounded 503s, unstuck after SIGCONT, nothing lost or committed behind a 503", async () => {
  pg = await ownPostgres();
  execFileSync("psql", ["-q", "-d", pg.url, "-c", "create database kakunin"]);
  const dbUrl = pg.url.replace(/\/postgres$/, "/kakunin");
  // Short timeouts keep the drill short; the defaults (5 s, 15 s) only scale the numbers.
  sys = await startSystem(fx, { DATABASE_URL: dbUrl, KAKUNIN_DB_CONNECT_TIMEOUT_MS: "1000", KAKUNIN_DB_STATEMENT_TIMEOUT_MS: "2000" });
  const { api, certified, edgeHolds } = apis(
    () => sys!.origin.url,
    () => sys!.edge.url,
    fx.adminKey,
  );
  const psql = (q: string) => execFileSync("psql", ["-qAt", "-d", dbUrl, "-c", q], { encoding: "utf8" }).trim();
  // Certificates to revoke during the hang, and an agent whose events the edge takes meanwhile.
  const toRevoke: { cert: string; serial: string }[] = [];
  for (let i = 0; i < 6; i++) toRevoke.push((await certified())!);
  const reporter = (await certified())!;
  await edgeHolds([...toRevoke.map((c) => c.serial), reporter.serial], "active", 30_000);
  const token = (await api("POST", `/v1/agents/${reporter.agent}/ingest-tokens`, {})).body.data.token;
  const ackRevoked: string[] = [];
  /**
   * Certificates whose revoke was sent before the freeze and answered 503 after it: the only ones
   * whose COMMIT can have been on the wire when the database froze. A request sent once the server
   * was frozen never got its first statement answered, so never sent a COMMIT (the server, woken,
   * reads end-of-file and rolls back); one answered 503 before the freeze had a server that
   * answered. A 409 after those is a defect (a revocation that committed and was refused, or
   * committed by another request's transaction), not the unknowable outcome.
   */
  const inFlightAtFreeze = new Set<string>();
  const revokedBehind503: string[] = [];
  const ackEvents: string[] = [];

  const acked = new Set<string>();
  const refused = new Set<string>();
  const statuses = new Map<number, number>();
  const bad: string[] = [];
  let slowest = 0;
  let frozenAt = 0;
  let resumedAt = 0;
  let readyz = { status: -1, detail: "", ms: 0 };
  const t0 = performance.now();
  let n = 0;
  const worker = async () => {
    while (performance.now() - t0 < HANG_MS + 8000) {
      const name = `hung-${n++}`;
      const started = performance.now();
      const r = await fetch(`${sys!.origin.url}/v1/agents`, {
        method: "POST",
        headers: { authorization: `Bearer ${fx.adminKey}`, "content-type": "application/json" },
        body: JSON.stringify({ ...agentBody(), name }),
        signal: AbortSignal.timeout(45_000),
      }).catch((e: unknown) => ({ status: 0, headers: new Headers(), text: async () => String(e) }));
      const text = await r.text();
      slowest = Math.max(slowest, performance.now() - started);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 201) {
        acked.add(name);
        const id = (JSON.parse(text) as { data: { id: string } }).data.id;
        const cStarted = performance.now();
        const c = await api("POST", `/v1/agents/${id}/certify`);
        slowest = Math.max(slowest, performance.now() - cStarted);
        statuses.set(c.status, (statuses.get(c.status) ?? 0) + 1);
        if (c.status !== 201 && c.status !== 503) bad.push(`certify ${c.status} ${JSON.stringify(c.body).slice(0, 200)}`);
      } else if (r.status === 503 && r.headers.get("retry-after") && r.headers.get("content-type")?.includes("problem+json")) {
        refused.add(name);
      } else {
        bad.push(`create ${r.status} ${text.slice(0, 200)}`);
        refused.add(name);
      }
      await new Promise((res) => setTimeout(res, 30));
    }
  };
  const hang = (async () => {
    await new Promise((res) => setTimeout(res, 2500));
    pg.freeze();
    frozenAt = performance.now();
    await new Promise((res) => setTimeout(res, 3000));
    // What a load balancer and the on-call see while it hangs: not ready, naming the database, soon.
    const asked = performance.now();
    const r = await fetch(`${sys!.origin.url}/readyz`, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    readyz = { status: r?.status ?? 0, detail: r ? (((await r.json()) as { detail?: string }).detail ?? "") : "", ms: performance.now() - asked };
    await new Promise((res) => setTimeout(res, HANG_MS - (performance.now() - frozenAt)));
    pg.resume();
    resumedAt = performance.now();
  })();
  const revoker = async () => {
    while (performance.now() - t0 < HANG_MS + 8000) {
      const c = toRevoke.shift();
      if (!c) break;
      const sent = performance.now();
      const r = await api("POST", `/v1/certificates/${c.cert}/revoke`, { reason: "pg hung drill" });
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 200) ackRevoked.push(c.serial);
      else if (r.status === 503) {
        if (frozenAt > 0 && sent < frozenAt) inFlightAtFreeze.add(c.cert);
        toRevoke.push(c);
      } else if (r.status === 409 && inFlightAtFreeze.has(c.cert) && (r.body as { type?: string }).type === "urn:kakunin:problem:already-revoked") {
        // The hang began with that revocation's COMMIT on the wire: the origin answered 503 (it
        // cannot know the outcome) and the server committed when it woke. The retry's 409 says so;
        // the certificate is revoked, and must reach the edge like any other.
        revokedBehind503.push(c.serial);
        ackRevoked.push(c.serial);
      } else bad.push(`revoke ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
      await new Promise((res) => setTimeout(res, 2000));
    }
  };
  // The edge takes events whatever the database does; its monitor forwards them when it can.
  const hour = Date.now() - 3_600_000;
  let e = 0;
  const reporting = async () => {
    while (performance.now() - t0 < HANG_MS + 8000) {
      const events = Array.from({ length: 20 }, () => {
        const i = e++;
        return {
          event_id: `hung-${i}`,
          timestamp: new Date(hour + i * 1000).toISOString(),
          type: "tool_call",
          action: "orders.quote",
          resource: "instrument/EURUSD",
          outcome: "success",
          latency_ms: 85,
        };
      });
      const r = await fetch(`${sys!.edge.url}/v1/events`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ events }),
        signal: AbortSignal.timeout(20_000),
      }).catch(() => undefined);
      if (r?.status === 202) ackEvents.push(...events.map((ev) => ev.event_id));
      await new Promise((res) => setTimeout(res, 1000));
    }
  };
  await Promise.all([hang, revoker(), reporting(), ...Array.from({ length: 6 }, worker)]);

  expect(bad, JSON.stringify([...statuses])).toEqual([]);
  expect(statuses.get(503) ?? 0, "the hang was seen and answered 503").toBeGreaterThan(0);
  expect(readyz.status, JSON.stringify(readyz)).toBe(503);
  expect(readyz.detail).toMatch(/database/);
  expect(readyz.ms, "/readyz answers within its own check deadline").toBeLessThan(8000);
  // The bound: a connect timeout, or a statement timeout plus the client-side backstop, plus the
  // rollback — not the length of the hang, and never the 45 s the client waits.
  expect(slowest, `slowest answer ${Math.round(slowest)} ms (hung ${frozenAt ? HANG_MS : 0} ms)`).toBeLessThan(HANG_MS + 8000);

  // Unstuck by itself: a write succeeds soon after SIGCONT; then, once the load has stopped, every
  // pool connection is back and idle (none lost to a request that ended), and no origin connection
  // sits idle inside a transaction (it would hold the tenant's audit lock, and commit its writes
  // under a later request's COMMIT).
  const { ms: writableAfter } = await pollUntil(async () => ((await api("POST", "/v1/agents", agentBody())).status === 201 ? true : undefined), 20_000, 200);
  const poolState = async () => {
    const text = await (await fetch(`${sys!.origin.url}/metrics`)).text();
    const count = (state: string) => Number(new RegExp(`kakunin_db_pool_connections\\{state="${state}"\\} (\\d+)`).exec(text)?.[1] ?? NaN);
    return { total: count("total"), idle: count("idle") };
  };
  const pool = await pollUntil(
    async () => {
      const p = await poolState();
      return p.total === p.idle ? p : undefined;
    },
    10_000,
    250,
  ).then(
    (r) => r.value,
    () => poolState(),
  );
  expect(pool.total - pool.idle, `pool connections still checked out with no request running (${JSON.stringify(pool)})`).toBe(0);
  await new Promise((res) => setTimeout(res, 2500));
  const idleInTx = Number(
    psql(
      "select count(*) from pg_stat_activity where datname = 'kakunin' and state like 'idle in transaction%' and now() - state_change > interval '2 seconds'",
    ),
  );
  expect(idleInTx, "origin connections idle in a transaction after the hang").toBe(0);
  const recoveryMs = performance.now() - resumedAt;

  // Let anything a leaked transaction would commit under a later request do so, then count.
  for (let i = 0; i < 20; i++) await api("POST", "/v1/agents", agentBody());
  const stored = new Map(
    psql("select name, count(*) from agents where name like 'hung-%' group by name")
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [name, count] = l.split("|");
        return [name!, Number(count)] as const;
      }),
  );
  const audited = new Map(
    psql("select canonical::jsonb #>> '{data,name}', count(*) from audit_entries where kind = 'agent.created' and canonical like '%\"hung-%' group by 1")
      .split("\n")
      .filter(Boolean)
      .map((l) => {
        const [name, count] = l.split("|");
        return [name!, Number(count)] as const;
      }),
  );
  const lost = [...acked].filter((a) => stored.get(a) !== 1 || audited.get(a) !== 1);
  const duplicates = [...stored.values()].filter((c) => c > 1).length + [...audited.values()].filter((c) => c > 1).length;
  // A 503 says nothing was committed. The one honest exception is a hang that began with the
  // COMMIT itself on the wire (its outcome is unknown to the origin); a write committed later by
  // another request's transaction is not that, and shows as an agent without its audit entry or
  // the reverse.
  const behind503 = [...refused].filter((a) => stored.has(a) !== audited.has(a));
  const committedAfter503 = [...refused].filter((a) => stored.has(a));
  expect(lost, "acknowledged agents not stored exactly once with their audit entry").toEqual([]);
  expect(duplicates).toBe(0);
  expect(behind503, "half of a refused request committed").toEqual([]);
  // Revocations acknowledged during the hang reach the edge; events it acknowledged are stored once.
  await edgeHolds(ackRevoked, "revoked", 60_000);
  const events = await pollUntil(
    async () => {
      const ids: string[] = [];
      let cursor: string | null | undefined = null;
      do {
        const page = await api("GET", `/v1/agents/${reporter.agent}/events?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
        if (page.status !== 200) return undefined;
        ids.push(...page.body.data.map((ev) => ev.event_id));
        cursor = page.body.next_cursor;
      } while (cursor);
      return ackEvents.every((id) => ids.includes(id)) ? ids : undefined;
    },
    60_000,
    500,
  );
  const eventDuplicates = events.value.length - new Set(events.value).size;
  expect(eventDuplicates).toBe(0);
  // Still the same process: nothing the hang left behind ended it.
  expect((await fetch(`${sys!.origin.url}/healthz`)).status).toBe(200);
  reportFault({
    fault: `PostgreSQL hung ${HANG_MS / 1000} s (SIGSTOP) and resumed`,
    acknowledged: acked.size + ackRevoked.length + ackEvents.length,
    stored: acked.size - lost.length + ackRevoked.length + ackEvents.length,
    duplicates: duplicates + eventDuplicates,
    recoveryMs,
    note: `${acked.size} agents, ${ackRevoked.length} revocations, ${ackEvents.length} events; ${statuses.get(503) ?? 0} × 503, 0 × 500, /readyz 503 in ${(readyz.ms / 1000).toFixed(1)} s, slowest answer ${(slowest / 1000).toFixed(1)} s, writable ${(writableAfter / 1000).toFixed(1)} s after SIGCONT; ${committedAfter503.length + revokedBehind503.length} refused with the COMMIT in flight, stored`,
  });
}, 120_000);
