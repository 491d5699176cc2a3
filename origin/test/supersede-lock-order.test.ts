/**
 * The overlap-ending job (supersedeDue: the 30-second job and tidy) and every decision about an
 * agent must take their locks in one order: the agent, its certificates, the tenant's audit head.
 * Retiring an agent (or suspending it over a review or the risk policy) revokes its certificates
 * one after another in one transaction: it holds the agent, the first certificate and, after
 * auditing that one, the audit head, then locks the next certificate. The job used to lock every
 * due certificate at once (one UPDATE) and then the audit head: holding the renewed predecessor
 * and waiting for the head while the retirement held the head and waited for the predecessor,
 * the two deadlocked (40P01: PostgreSQL aborts one; a 503 or a failed job run). Now the job locks
 * each agent before that agent's certificates, so it waits for the retirement instead.
 *
 * The interleaving is made deterministic: the test holds the agent's row and the audit head the
 * way the retirement does mid-way, starts the job, and then asks for the predecessor's row lock
 * with NOWAIT, which fails when the job already took it.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ManualClock } from "../src/clock.ts";
import { supersedeDue } from "../src/lifecycle/supersede.ts";
import { agentBody, freshPostgresDatabase, postgresUrl, startTestOrigin, type TestOrigin } from "./harness.ts";

const clock = new ManualClock(new Date("2026-06-01T00:00:00Z"));
let o: TestOrigin;
let admin: pg.Client;
let holder: pg.Client;
let drop: (() => Promise<void>) | undefined;
beforeAll(async () => {
  if (!postgresUrl()) return;
  const db = await freshPostgresDatabase({ migrated: true });
  drop = db.drop;
  o = await startTestOrigin("postgres", { databaseUrl: db.url, clock, env: { KAKUNIN_LOCAL_KEY_POOL: "0" } });
  admin = new pg.Client({ connectionString: db.url });
  holder = new pg.Client({ connectionString: db.url });
  await Promise.all([admin.connect(), holder.connect()]);
});
afterAll(async () => {
  await holder?.end();
  await admin?.end();
  await o?.close();
  await drop?.();
});

/** Polls pg_stat_activity until a backend waits on a row lock. */
async function rowWaiter(): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = await admin.query(
      "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event in ('transactionid', 'tuple')",
    );
    if (r.rows[0].n >= 1) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the job never waited on a row lock");
}

it.skipIf(!postgresUrl())(
  "the overlap-ending job locks the agent before its certificates: it waits for a retirement in progress, never deadlocks with it",
  async () => {
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const first = await o.json<{ data: { id: string } }>("POST", `/v1/agents/${id}/certify`);
    expect(first.status).toBe(201);
    const renewed = await o.json<{ data: { id: string } }>("POST", `/v1/agents/${id}/certificates/renew`, { body: { overlap_seconds: 60 } });
    expect(renewed.status).toBe(201);
    clock.advance(61_000);
    const tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;

    // A retirement mid-way: the agent locked, one certificate revoked and audited (the head locked).
    await holder.query("begin");
    await holder.query("select id from agents where id = $1 for update", [id]);
    await holder.query("select size from audit_heads where tenant_id = $1 for update", [tenantId]);
    const job = supersedeDue(o.services.db, clock.now());
    let jobError: unknown;
    job.catch((e: unknown) => {
      jobError = e;
    });
    await rowWaiter();
    // The retirement's next step: the renewed predecessor. Before, the job held it already (NOWAIT
    // fails with 55P03); waiting for it instead was the deadlock.
    const next = await holder.query("select id from certificates where id = $1 for update nowait", [first.body.data.id]).then(
      () => "locked",
      (e: { code?: string }) => `refused ${e.code}`,
    );
    await holder.query(next === "locked" ? "commit" : "rollback");
    expect(next).toBe("locked");
    expect(await job).toBe(1);
    expect(jobError).toBeUndefined();
    const certs = await o.json<{ data: { id: string; status: string }[] }>("GET", `/v1/agents/${id}/certificates`);
    expect(certs.body.data.find((c) => c.id === first.body.data.id)?.status).toBe("superseded");
  },
);
