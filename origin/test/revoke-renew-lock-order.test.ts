/**
 * Two origins on one PostgreSQL database: a renewal and a revocation of the certificate it renews,
 * at once. Every decision about an agent locks the agent's row, then its certificates (renew,
 * retire, PATCH model.hash, review, the risk policy); `POST /v1/certificates/:id/revoke` locked
 * the certificate first and the agent only when suspending it. Renew holding the agent and waiting
 * for the certificate, revoke holding the certificate and waiting for the agent: PostgreSQL broke
 * the deadlock after deadlock_timeout by aborting one (40P01, a 503 to retry). Now revoking locks
 * the agent first: one wins, the other waits and gets a plain 409.
 *
 * The interleaving is made deterministic with a test-only trigger: the revocation's UPDATE waits
 * on an advisory lock the test holds, after the certificate row is locked, until the renewal is
 * waiting on a row lock too.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { agentBody, freshPostgresDatabase, postgresUrl, startTestOrigin, type TestOrigin } from "./harness.ts";

const GATE = 731_001;
let a: TestOrigin;
let b: TestOrigin;
let admin: pg.Client;
let drop: (() => Promise<void>) | undefined;
beforeAll(async () => {
  if (!postgresUrl()) return;
  const db = await freshPostgresDatabase();
  drop = db.drop;
  const env = { KAKUNIN_MASTER_KEY: randomBytes(32).toString("base64") };
  const adminKey = `test-admin-${randomBytes(12).toString("hex")}`;
  a = await startTestOrigin("postgres", { databaseUrl: db.url, adminKey, env });
  b = await startTestOrigin("postgres", { databaseUrl: db.url, adminKey, env });
  admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(`create function test_gate_revoke() returns trigger language plpgsql as $$
    begin perform pg_advisory_xact_lock_shared(${GATE}); return new; end $$`);
  await admin.query(`create trigger test_gate_revoke before update on certificates for each row
    when (new.status = 'revoked') execute function test_gate_revoke()`);
});
afterAll(async () => {
  await admin?.end();
  await a?.close();
  await b?.close();
  await drop?.();
});

/** Polls pg_stat_activity until `n` backends wait on the given kind of lock. */
async function waiters(event: "advisory" | "row", n: number): Promise<void> {
  const filter = event === "advisory" ? "wait_event = 'advisory'" : "wait_event in ('transactionid', 'tuple')";
  for (let i = 0; i < 600; i++) {
    const r = await admin.query(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and ${filter}`,
    );
    if (r.rows[0].n >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no backend waited on a ${event} lock`);
}

it.skipIf(!postgresUrl())("renew on origin A and revoke of the renewed certificate on origin B: one wins, the other gets 409, never a deadlock", async () => {
  const id = (await a.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
  const cert = await a.json<{ data: { id: string } }>("POST", `/v1/agents/${id}/certify`);
  expect(cert.status).toBe(201);

  await admin.query("select pg_advisory_lock($1)", [GATE]);
  const revoking = b.json<{ type?: string }>("POST", `/v1/certificates/${cert.body.data.id}/revoke`, { body: { reason: "key compromise" } });
  await waiters("advisory", 1);
  const renewing = a.json<{ type?: string }>("POST", `/v1/agents/${id}/certificates/renew`, { body: {} });
  await waiters("row", 1);
  await admin.query("select pg_advisory_unlock($1)", [GATE]);
  const [revoked, renewed] = await Promise.all([revoking, renewing]);

  // The revocation held its lock first and wins; the renewal waits, then finds the agent suspended
  // and issues nothing: a client error, never the 503 of a transaction aborted by a deadlock.
  expect(revoked.status, JSON.stringify(revoked.body)).toBe(200);
  expect([renewed.status, renewed.body.type], JSON.stringify(renewed.body)).toEqual([409, "urn:kakunin:problem:no-active-certificate"]);
  expect(renewed.res.headers.get("content-type")).toMatch(/problem\+json/);
  const certs = await a.json<{ data: { status: string }[] }>("GET", `/v1/agents/${id}/certificates`);
  expect(certs.body.data.map((c) => c.status)).toEqual(["revoked"]);
  const agent = await a.json<{ data: { status: string } }>("GET", `/v1/agents/${id}`);
  expect(agent.body.data.status).toBe("suspended");
  // No half-done renewal: no orphan outbox row names a successor that does not exist.
  const orphans = await admin.query("select subject from outbox where kind = 'cert' and subject not in (select serial_number from certificates)");
  expect(orphans.rows).toEqual([]);
});

it.skipIf(!postgresUrl())(
  "revoking the renewed predecessor on origin A and its successor on origin B at once: one revokes both, the other gets 409",
  async () => {
    const id = (await a.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const first = await a.json<{ data: { id: string } }>("POST", `/v1/agents/${id}/certify`);
    const renewal = await a.json<{ data: { id: string } }>("POST", `/v1/agents/${id}/certificates/renew`, { body: {} });
    expect([first.status, renewal.status]).toEqual([201, 201]);

    await admin.query("select pg_advisory_lock($1)", [GATE]);
    const viaA = a.json<{ type?: string }>("POST", `/v1/certificates/${first.body.data.id}/revoke`, { body: { reason: "key compromise" } });
    await waiters("advisory", 1);
    const viaB = b.json<{ type?: string }>("POST", `/v1/certificates/${renewal.body.data.id}/revoke`, { body: { reason: "key compromise" } });
    // Before the fix B locks its certificate and waits at the gate too; after it, B waits for the agent.
    await Promise.race([waiters("row", 1), waiters("advisory", 2)]);
    await admin.query("select pg_advisory_unlock($1)", [GATE]);
    const [ra, rb] = await Promise.all([viaA, viaB]);

    expect([ra.status, rb.status], JSON.stringify([ra.body, rb.body])).toEqual([200, 409]);
    expect(rb.body.type).toBe("urn:kakunin:problem:already-revoked");
    const certs = await a.json<{ data: { status: string }[] }>("GET", `/v1/agents/${id}/certificates`);
    expect(certs.body.data.map((c) => c.status)).toEqual(["revoked", "revoked"]);
  },
);
