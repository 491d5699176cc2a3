/**
 * The API-key cache of read-only routes (auth/caller-cache.ts, KAKUNIN_AUTH_CACHE_MS): a key
 * revoked elsewhere (another origin, here a direct update of the shared database or a second
 * origin on one PostgreSQL) is refused by the proof routes at most the bound after the revocation
 * committed; at once on the origin that revoked it; at once on every route that is not read-only;
 * role checks are the same with a cached caller.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.ts";
import { dbKinds, freshPostgresDatabase, postgresUrl, startTestOrigin, type TestOrigin } from "./harness.ts";

const PROOF = "/v1/audit/proofs/consistency?from=1&to=1";

async function newKey(o: TestOrigin, role: string): Promise<{ id: string; key: string }> {
  const r = await o.json<{ data: { id: string; key: string } }>("POST", "/v1/api-keys", { body: { name: `k-${role}`, role } });
  expect(r.status).toBe(201);
  return r.body.data;
}

describe.each(dbKinds())("API-key cache of the proof routes on %s", (kind) => {
  const clock = new ManualClock();
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind, { clock });
  }, 120_000);
  afterAll(async () => {
    await o?.close();
  });

  it("accepts a key revoked by another writer for at most KAKUNIN_AUTH_CACHE_MS, then refuses it", async () => {
    const ttl = o.services.config.KAKUNIN_AUTH_CACHE_MS;
    expect(ttl).toBe(200);
    const k = await newKey(o, "auditor");
    expect((await o.request("GET", PROOF, { key: k.key })).status).toBe(200);
    // Another origin revokes it: this origin is not told; only the shared database changes.
    await o.services.db.execute(`update api_keys set revoked_at = now() where id = '${k.id}'`);
    clock.advance(ttl - 1);
    expect((await o.request("GET", PROOF, { key: k.key })).status).toBe(200);
    // Routes that are not read-only never use the cache.
    expect((await o.request("GET", "/v1/tenant", { key: k.key })).status).toBe(401);
    clock.advance(1);
    const refused = await o.request("GET", PROOF, { key: k.key });
    expect(refused.status).toBe(401);
    expect(refused.headers.get("content-type")).toMatch(/problem\+json/);
    expect((await o.request("GET", "/v1/audit/proofs/inclusion?entry=0", { key: k.key })).status).toBe(401);
  });

  it("forgets at once when this origin revokes the key", async () => {
    const k = await newKey(o, "auditor");
    expect((await o.request("GET", PROOF, { key: k.key })).status).toBe(200);
    expect((await o.request("DELETE", `/v1/api-keys/${k.id}`)).status).toBe(200);
    expect((await o.request("GET", PROOF, { key: k.key })).status).toBe(401);
  });

  it("keeps role checks exact with a cached caller, and never caches unknown keys", async () => {
    const issuer = await newKey(o, "issuer");
    for (let i = 0; i < 2; i++) expect((await o.request("GET", PROOF, { key: issuer.key })).status).toBe(403);
    const admin = await newKey(o, "admin");
    for (let i = 0; i < 2; i++) expect((await o.request("GET", PROOF, { key: admin.key })).status).toBe(200);
    // An unknown key that becomes valid later is not remembered as unknown (only successes are kept).
    expect((await o.request("GET", PROOF, { key: "kk_not-a-key" })).status).toBe(401);
    // A clock that steps back never extends an entry's life.
    const k = await newKey(o, "auditor");
    expect((await o.request("GET", PROOF, { key: k.key })).status).toBe(200);
    await o.services.db.execute(`update api_keys set revoked_at = now() where id = '${k.id}'`);
    clock.advance(-5_000);
    expect((await o.request("GET", PROOF, { key: k.key })).status).toBe(401);
  });
});

describe.runIf(postgresUrl())("two origins on one PostgreSQL, real clock", () => {
  it("a key revoked on origin A is refused by origin B's proof routes within the bound", async () => {
    const pg = await freshPostgresDatabase();
    const a = await startTestOrigin("postgres", { databaseUrl: pg.url });
    const b = await startTestOrigin("postgres", { databaseUrl: pg.url, adminKey: a.adminKey });
    try {
      const ttl = b.services.config.KAKUNIN_AUTH_CACHE_MS;
      const k = await newKey(a, "auditor");
      expect((await b.request("GET", PROOF, { key: k.key })).status).toBe(200);
      expect((await a.request("DELETE", `/v1/api-keys/${k.id}`)).status).toBe(200);
      const revokedAt = Date.now();
      expect((await a.request("GET", PROOF, { key: k.key })).status).toBe(401);
      // B may still answer from its cache until the bound; never after it.
      await new Promise((r) => setTimeout(r, ttl + 20));
      expect(Date.now() - revokedAt).toBeGreaterThanOrEqual(ttl);
      expect((await b.request("GET", PROOF, { key: k.key })).status).toBe(401);
      expect((await b.request("GET", "/v1/audit/proofs/inclusion?entry=0", { key: k.key })).status).toBe(401);
    } finally {
      await b.close();
      await a.close();
      await pg.drop();
    }
  }, 120_000);
});
