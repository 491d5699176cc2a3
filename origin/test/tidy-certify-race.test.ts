/**
 * Tidy (POST /v1/admin/tidy, here with safety_buffer_seconds 0, or the job on another origin)
 * against a certify in flight. The certify records its key's intent, makes the key, has it signed,
 * and only then commits the certificate that references it. Tidy's orphan step picked the intent
 * as "created but never referenced" in between and scheduled the key for deletion, and the
 * certify committed anyway: an active certificate whose private key the KMS is deleting (every
 * signature as the agent fails from then on). Now the certificate's commit and tidy's claim both
 * lock the intent row: whichever is second sees the other (certify 503 and nothing issued, or tidy
 * leaves the key alone).
 */
import { eq } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificates, managedKeys } from "../src/db/schema.ts";
import { agentBody, dbKinds, postgresUrl, startTestOrigin, type TestOrigin } from "./harness.ts";

describe.each(dbKinds())("tidy racing a certify (%s)", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
    expect((await o.json("GET", "/v1/ca")).status).toBe(200);
  });
  afterAll(async () => {
    await o.close();
  });

  /** Holds the next signature (the issuing CA signing the certificate) until `release()`. */
  function gateSign(): { entered: Promise<void>; release: () => void; restore: () => void } {
    const keys = o.services.keys;
    const sign = keys.sign.bind(keys);
    let release!: () => void;
    let enter!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const entered = new Promise<void>((r) => (enter = r));
    keys.sign = async (ref, data) => {
      enter();
      await gate;
      return sign(ref, data);
    };
    return { entered, release, restore: () => (keys.sign = sign) };
  }

  it("a key tidy scheduled for deletion never ends up under an active certificate", async () => {
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const g = gateSign();
    const certifying = o.json<{ data: { id: string }; type?: string }>("POST", `/v1/agents/${id}/certify`);
    await g.entered;
    g.restore();
    await new Promise((r) => setTimeout(r, 5)); // the intent is strictly older than tidy's cutoff
    const t = await o.json<{ data: { orphan_keys: number } }>("POST", "/v1/admin/tidy", { body: { safety_buffer_seconds: 0 } });
    expect(t.status).toBe(200);
    g.release();
    const r = await certifying;

    const rows = await o.services.db
      .select({ status: certificates.status, state: managedKeys.state })
      .from(certificates)
      .leftJoin(managedKeys, eq(managedKeys.keyRef, certificates.keyRef))
      .where(eq(certificates.agentId, id));
    if (r.status === 201) {
      // Issued: its key must not be on its way out.
      expect(rows, JSON.stringify(t.body)).toEqual([{ status: "active", state: "created" }]);
    } else {
      // Refused: nothing issued, a retryable answer, and a retry succeeds.
      expect([r.status, r.res.headers.get("retry-after")], JSON.stringify(r.body)).toEqual([503, "1"]);
      expect(rows).toEqual([]);
      expect((await o.json("POST", `/v1/agents/${id}/certify`)).status).toBe(201);
    }
  });
});

/**
 * The other order, on PostgreSQL: the certify's transaction holds the key's intent when tidy's
 * orphan step (another connection) read it as unreferenced; tidy's claim waits for that lock, then
 * sees the committed certificate and leaves the key alone. A test-only trigger holds the
 * certificate's INSERT on an advisory lock until tidy waits.
 */
it.skipIf(!postgresUrl())("tidy waiting on a certify's commit sees the certificate and deletes nothing (PostgreSQL)", async () => {
  const GATE = 731_002;
  const o = await startTestOrigin("postgres");
  const admin = new pg.Client({ connectionString: o.services.config.DATABASE_URL });
  try {
    await admin.connect();
    await admin.query(`create function test_gate_issue() returns trigger language plpgsql as $$
      begin perform pg_advisory_xact_lock_shared(${GATE}); return new; end $$`);
    await admin.query("create trigger test_gate_issue before insert on certificates for each row execute function test_gate_issue()");
    expect((await o.json("GET", "/v1/ca")).status).toBe(200);
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    await admin.query("select pg_advisory_lock($1)", [GATE]);
    const certifying = o.json<{ data: { id: string } }>("POST", `/v1/agents/${id}/certify`);
    await lockWaiters(admin, "wait_event = 'advisory'");
    const tidying = o.json<{ data: { orphan_keys: number } }>("POST", "/v1/admin/tidy", { body: { safety_buffer_seconds: 0 } });
    await lockWaiters(admin, "wait_event in ('transactionid', 'tuple')");
    await admin.query("select pg_advisory_unlock($1)", [GATE]);
    const [c, t] = await Promise.all([certifying, tidying]);
    expect([c.status, t.status, t.body.data.orphan_keys]).toEqual([201, 200, 0]);
    const rows = await o.services.db
      .select({ state: managedKeys.state })
      .from(certificates)
      .leftJoin(managedKeys, eq(managedKeys.keyRef, certificates.keyRef))
      .where(eq(certificates.agentId, id));
    expect(rows).toEqual([{ state: "created" }]);
  } finally {
    await admin.end();
    await o.close();
  }
});

async function lockWaiters(admin: pg.Client, filter: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const r = await admin.query(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and ${filter}`,
    );
    if (r.rows[0].n >= 1) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no backend waited (${filter})`);
}
