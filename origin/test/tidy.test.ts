import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { count, eq, sql } from "drizzle-orm";
import { ManualClock } from "../src/clock.ts";
import { auditEntries, authorities, certificates, localKeys, managedKeys, outbox } from "../src/db/schema.ts";
import { createTrackedKey, keyDeps } from "../src/lifecycle/keys.ts";
import type { KeyManager } from "../src/kms/types.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";
import { expectedKeyCount } from "./key-counts.ts";

interface Report { certificate_keys: number; retired_ca_keys: number; orphan_keys: number; resumed: number; abandoned: number; untracked_seen: number; untracked_registered: number; failed: unknown[] }
const H = 3_600_000;

/**
 * Key clean-up on the local backend (the KMS test server and SoftHSM run the same scenario in
 * test/tidy-backends.test.ts): failure paths delete their key at once; tidy deletes the keys of
 * certificates that stopped being valid more than the safety buffer ago, and orphans.
 */
describe.each(dbKinds())("key deletion and tidy on %s", (kind) => {
  let o: TestOrigin;
  const clock = new ManualClock(new Date("2026-07-01T00:00:00Z"));
  beforeAll(async () => { o = await startTestOrigin(kind, { clock, env: { KAKUNIN_LOCAL_KEY_POOL: "0" } }); });
  afterAll(async () => { await o.close(); });

  const liveKeys = async () => (await o.services.db.select({ n: count() }).from(localKeys).where(eq(localKeys.pooled, false)))[0]!.n;
  const caKeys = async () => (await o.services.db.select({ n: count() }).from(authorities))[0]!.n;
  const tidy = async (body?: unknown) => {
    const r = await o.json<{ data: Report }>("POST", "/v1/admin/tidy", body === undefined ? {} : { body });
    expect(r.status).toBe(200);
    return r.body.data;
  };
  const newAgent = async () => (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;

  it("a certify that loses its race deletes the key it made before answering 409", async () => {
    expect((await o.json("GET", "/v1/ca")).status).toBe(200); // CA keys exist before counting
    await tidy({ safety_buffer_seconds: 0 });
    const before = await liveKeys();
    const id = await newAgent();
    const results = await Promise.all(Array.from({ length: 8 }, () => o.json("POST", `/v1/agents/${id}/certify`)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(7);
    expect(await liveKeys()).toBe(before + 1);
  });

  it("tidy waits for the safety buffer, then deletes revoked certificates' keys, audited and idempotent", async () => {
    const id = await newAgent();
    const cert = (await o.json<{ data: { id: string; kms_key_arn: string } }>("POST", `/v1/agents/${id}/certify`)).body.data;
    await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "test" } });
    const before = await liveKeys();
    expect((await tidy()).certificate_keys).toBe(0); // default buffer: 72 h
    clock.advance(72 * H + 1000);
    const r = await tidy();
    expect(r.certificate_keys).toBeGreaterThanOrEqual(1);
    expect(await liveKeys()).toBe(before - r.certificate_keys);
    const [row] = await o.services.db.select().from(managedKeys).where(eq(managedKeys.keyRef, cert.kms_key_arn));
    expect(row).toMatchObject({ state: "deleted" });
    const audited = await o.services.db.select().from(auditEntries).where(sql`${auditEntries.kind} = 'key.deletion_scheduled' and ${auditEntries.canonical} like ${"%" + cert.kms_key_arn + "%"}`);
    expect(audited).toHaveLength(1);
    const again = await tidy();
    expect(again).toMatchObject({ certificate_keys: 0, orphan_keys: 0, resumed: 0 });
    // Signing with a deleted key's agent fails cleanly, not with a 500.
    expect((await o.json("POST", `/v1/agents/${id}/sign`, { body: { payload_b64: "aGk=" } })).status).toBeLessThan(500);
  });

  it("finds orphans: a key whose commit never happened, a key whose ref never reached the database, an intent with no key", async () => {
    await tidy({ safety_buffer_seconds: 0 });
    const base = await liveKeys();
    const deps = keyDeps(o.services);
    // Crash after CreateKey returned, before the certificate row committed.
    const a = await createTrackedKey(deps, { purpose: "agent", tenantId: null, label: "kakunin-agent-crashed" });
    expect(a.ok).toBe(true);
    // Crash (or lost answer) before the ref was stored: only the intent row and the key's intent mark exist.
    const [intent] = await o.services.db.insert(managedKeys).values({ purpose: "agent", backend: "local", label: "kakunin-agent-lost", state: "creating", createdAt: clock.now() }).returning();
    expect((await o.services.keys.createKey("kakunin-agent-lost", { intent: intent!.id })).ok).toBe(true);
    // An intent whose CreateKey never happened.
    await o.services.db.insert(managedKeys).values({ purpose: "agent", backend: "local", label: "kakunin-agent-never", state: "creating", createdAt: clock.now() });
    expect(await liveKeys()).toBe(base + 2);
    expect((await tidy()).orphan_keys).toBe(0); // younger than the buffer: could be in flight
    clock.advance(72 * H + 1000);
    const r = await tidy();
    expect(r).toMatchObject({ orphan_keys: 2, abandoned: 1 });
    expect(await liveKeys()).toBe(base);
  });

  it("resumes a deletion recorded before a crash; registers keys it has no record of and deletes them after the buffer", async () => {
    await tidy({ safety_buffer_seconds: 0 });
    const base = await liveKeys();
    const k = await createTrackedKey(keyDeps(o.services), { purpose: "agent", tenantId: null, label: "kakunin-agent-half-deleted" });
    if (!k.ok) throw new Error("createKey failed");
    await o.services.db.update(managedKeys).set({ state: "deleting", deletionRequestedAt: clock.now() }).where(eq(managedKeys.id, k.value.intentId));
    const legacy = await o.services.keys.createKey("kakunin-agent-legacy");
    expect(legacy.ok).toBe(true);
    const r = await tidy();
    // Left alone by default: the backend may be shared with another deployment (see below).
    expect(r).toMatchObject({ resumed: 1, untracked_seen: 1, untracked_registered: 0 });
    clock.advance(72 * H + 1000);
    expect((await tidy()).orphan_keys).toBe(0);
    expect(await liveKeys()).toBe(base + 1);
    // The operator says the backend is this deployment's alone: registered, deleted after the buffer
    // by a run that says so too (one that does not leaves it, as it leaves keys an older build
    // registered without asking).
    expect(await tidy({ adopt_untracked: true })).toMatchObject({ untracked_seen: 1, untracked_registered: 1 });
    clock.advance(72 * H + 1000);
    expect((await tidy()).orphan_keys).toBe(0);
    expect(await liveKeys()).toBe(base + 1);
    expect((await tidy({ adopt_untracked: true })).orphan_keys).toBe(1);
    expect(await liveKeys()).toBe(base);
  });

  // The full 50/20 run is in test/tidy-backends.test.ts (KMS test server, SoftHSM); here a smaller one.
  it("after 20 racing certifies and 8 revocations + tidy, the key count is the live certificates' plus the CA keys", async () => {
    expect((await o.json("GET", "/v1/ca")).status).toBe(200);
    await tidy({ safety_buffer_seconds: 0 });
    const ids = await Promise.all(Array.from({ length: 12 }, () => newAgent()));
    const before = await liveKeys();
    const results = await Promise.all([...ids, ...ids.slice(0, 8)].map((id) => o.json<{ data: { id: string; agent_id: string } }>("POST", `/v1/agents/${id}/certify`)));
    const issued = results.filter((r) => r.status === 201).map((r) => r.body.data);
    expect(issued).toHaveLength(12);
    expect(results.filter((r) => r.status === 409)).toHaveLength(8);
    for (const c of issued.slice(0, 8)) expect((await o.json("POST", `/v1/certificates/${c.id}/revoke`, { body: { reason: "test" } })).status).toBe(200);
    await tidy({ safety_buffer_seconds: 0 });
    expect(await liveKeys()).toBe(before + 4);
    // The measure: every key left belongs to a live certificate or to a CA.
    const live = (await o.services.db.select({ n: count() }).from(certificates).where(sql`${certificates.status} = 'active' and ${certificates.expiresAt} > ${clock.now()}`))[0]!.n;
    expect(await liveKeys()).toBe(live + (await caKeys()));
  }, 300_000);

  // Last in this file: it moves the clock past every certificate's expiry.
  it("deletes a retired issuing CA's key once every certificate it signed expired and its final CRL is published", async () => {
    await tidy({ safety_buffer_seconds: 0 });
    const id = await newAgent();
    expect((await o.json("POST", `/v1/agents/${id}/certify`)).status).toBe(201);
    const r = await o.json<{ data: { previous: { serial_number: string } } }>("POST", "/v1/tenant/ca/rollover");
    expect(r.status).toBe(201);
    const [old] = await o.services.db.select().from(authorities).where(eq(authorities.serialNumber, r.body.data.previous.serial_number));
    const keyState = async () => (await o.services.db.select().from(managedKeys).where(eq(managedKeys.keyRef, old!.keyRef)))[0]?.state;
    // Its certificates are live: the key signs their CRL and OCSP.
    expect((await tidy({ safety_buffer_seconds: 0 })).retired_ca_keys).toBe(0);
    // Every agent certificate (365 days) has expired, but less than a day ago: OCSP for them may
    // still be re-signed (publish/refresher.ts), so not even a zero buffer lets the key go.
    clock.advance(365 * 24 * H + H);
    expect((await tidy({ safety_buffer_seconds: 0 })).retired_ca_keys).toBe(0);
    // Two days later, not yet past the default 72 h buffer.
    clock.advance(48 * H);
    expect((await tidy()).retired_ca_keys).toBe(0);
    // Past the buffer, but the tenant's CRL publication (queued by the rollover) was never delivered.
    expect((await tidy({ safety_buffer_seconds: 0 })).retired_ca_keys).toBe(0);
    expect(await keyState()).toBe("created");
    // The edge acknowledges the CRLs (what the publisher records on delivery): now it goes.
    await o.services.db.update(outbox).set({ deliveredAt: clock.now() }).where(eq(outbox.kind, "crl"));
    const before = await liveKeys();
    const done = await tidy({ safety_buffer_seconds: 0 });
    expect(done.retired_ca_keys).toBe(1);
    expect(done.failed).toEqual([]);
    expect(await keyState()).toBe("deleted");
    expect(await liveKeys()).toBe(before - 1);
    const audited = await o.services.db.select().from(auditEntries).where(sql`${auditEntries.kind} = 'key.deletion_scheduled' and ${auditEntries.canonical} like ${"%" + old!.keyRef + "%"}`);
    expect(audited).toHaveLength(1);
    expect(audited[0]!.canonical).toContain(old!.serialNumber);
    // Idempotent, and the active CA still signs.
    expect((await tidy({ safety_buffer_seconds: 0 })).retired_ca_keys).toBe(0);
    expect((await o.json("POST", `/v1/agents/${await newAgent()}/certify`)).status).toBe(201);
    const { live, ca } = await expectedKeyCount(o.services);
    expect(await liveKeys()).toBe(live + ca);
  });

  it("only the operator tenant's admin may tidy; a bad body is 422", async () => {
    const t = await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `tidy-other-${kind}` } });
    expect((await o.json("POST", "/v1/admin/tidy", { key: t.body.data.admin_api_key })).status).toBe(403);
    expect((await o.json("POST", "/v1/admin/tidy", { body: { safety_buffer_seconds: -1 } })).status).toBe(422);
  });
});

describe("two deployments on one key backend", () => {
  it("the second one's tidy never deletes the first one's keys (root, issuing CA, agents)", async () => {
    // Staging and production in one AWS account and region, or on one HSM token: until 2026-12-06
    // the other deployment's tidy registered every key it had no record of and deleted them after
    // the buffer, this one's root and issuing CA keys included.
    const clock = new ManualClock(new Date("2026-07-01T00:00:00Z"));
    const a = await startTestOrigin("pglite", { clock, env: { KAKUNIN_LOCAL_KEY_POOL: "0" } });
    const shared = a.services.keys;
    // B borrows A's backend; closing B must not close it.
    const borrowed: KeyManager = {
      kind: shared.kind,
      createKey: (label, opts) => shared.createKey(label, opts),
      getPublicKey: (ref) => shared.getPublicKey(ref),
      sign: (ref, data) => shared.sign(ref, data),
      scheduleDeletion: (ref, opts) => shared.scheduleDeletion(ref, opts),
      listKeys: () => shared.listKeys(),
      close: async () => {},
    };
    const b = await startTestOrigin("pglite", { clock, keys: () => borrowed, env: { KAKUNIN_LOCAL_KEY_POOL: "0" } });
    try {
      const keysOfA = async () => (await a.services.db.select({ n: count() }).from(localKeys).where(eq(localKeys.pooled, false)))[0]!.n;
      const agent = (await a.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "shared-backend" }) })).body.data.id;
      expect((await a.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
      expect((await b.json("GET", "/v1/ca")).status).toBe(200);
      const before = await keysOfA();
      // What a run of an older build left in B's database: A's keys registered as B's unknown ones.
      const listed = await shared.listKeys();
      if (!listed.ok) throw new Error("listKeys failed");
      const ownRefs = new Set((await b.services.db.select({ ref: managedKeys.keyRef }).from(managedKeys)).map((r) => r.ref));
      const foreign = listed.value.filter((k) => !ownRefs.has(k.ref)).slice(0, 2);
      expect(foreign.length).toBeGreaterThan(0);
      await b.services.db.insert(managedKeys).values(
        foreign.map((k) => ({ purpose: "unknown" as const, backend: shared.kind, label: k.label, keyRef: k.ref, state: "created" as const, createdAt: clock.now() })),
      );
      clock.advance(73 * 3_600_000);
      for (let run = 0; run < 2; run++) {
        const r = await b.json<{ data: Report }>("POST", "/v1/admin/tidy", { body: { safety_buffer_seconds: 0 } });
        expect(r.status).toBe(200);
        expect(r.body.data.untracked_seen).toBeGreaterThan(0);
        expect(r.body.data.untracked_registered).toBe(0);
        clock.advance(73 * 3_600_000);
      }
      expect(await keysOfA()).toBe(before);
      expect((await a.json("POST", `/v1/agents/${agent}/sign`, { body: { payload_b64: "aGVsbG8=" } })).status).toBe(200);
      const second = (await a.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "shared-backend-2" }) })).body.data.id;
      expect((await a.json("POST", `/v1/agents/${second}/certify`)).status).toBe(201);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
