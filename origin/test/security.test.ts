import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

type Role = "admin" | "issuer" | "auditor";
interface Op { name: string; method: string; path: (ids: Ids) => string; body?: unknown; allowed: Role[] }
interface Ids { agent: string; cert: string; key: string; bare: string }

// Every origin route with the roles the design gives it. A new route without a row here is a gap.
const OPS: Op[] = [
  { name: "create agent", method: "POST", path: () => "/v1/agents", body: agentBody(), allowed: ["admin", "issuer"] },
  { name: "list agents", method: "GET", path: () => "/v1/agents", allowed: ["admin", "issuer", "auditor"] },
  { name: "get agent", method: "GET", path: (i) => `/v1/agents/${i.agent}`, allowed: ["admin", "issuer", "auditor"] },
  { name: "patch agent", method: "PATCH", path: (i) => `/v1/agents/${i.agent}`, body: { scopes: ["orders.*"] }, allowed: ["admin", "issuer"] },
  { name: "agent certificates", method: "GET", path: (i) => `/v1/agents/${i.agent}/certificates`, allowed: ["admin", "issuer", "auditor"] },
  { name: "certify", method: "POST", path: (i) => `/v1/agents/${i.bare}/certify`, allowed: ["admin", "issuer"] },
  { name: "renew", method: "POST", path: (i) => `/v1/agents/${i.agent}/certificates/renew`, body: { overlap_seconds: 60 }, allowed: ["admin", "issuer"] },
  { name: "list expiring agents", method: "GET", path: () => "/v1/agents?expiring_within=30d", allowed: ["admin", "issuer", "auditor"] },
  { name: "tidy", method: "POST", path: () => "/v1/admin/tidy", body: { safety_buffer_seconds: 86_400 }, allowed: ["admin"] },
  { name: "sign", method: "POST", path: (i) => `/v1/agents/${i.agent}/sign`, body: { payload_b64: "aGk=" }, allowed: ["admin", "issuer"] },
  { name: "mint ingest token", method: "POST", path: (i) => `/v1/agents/${i.agent}/ingest-tokens`, body: { ttl_seconds: 600 }, allowed: ["admin", "issuer"] },
  { name: "agent events", method: "GET", path: (i) => `/v1/agents/${i.agent}/events`, allowed: ["admin", "auditor"] },
  { name: "get certificate", method: "GET", path: (i) => `/v1/certificates/${i.cert}`, allowed: ["admin", "issuer", "auditor"] },
  { name: "revoke", method: "POST", path: (i) => `/v1/certificates/${i.cert}/revoke`, body: { reason: "matrix" }, allowed: ["admin", "issuer"] },
  { name: "retire", method: "POST", path: (i) => `/v1/agents/${i.agent}/retire`, allowed: ["admin", "issuer"] },
  { name: "ca chain", method: "GET", path: () => "/v1/ca", allowed: ["admin", "issuer", "auditor"] },
  { name: "ca rollover", method: "POST", path: () => "/v1/tenant/ca/rollover", allowed: ["admin"] },
  { name: "tenant", method: "GET", path: () => "/v1/tenant", allowed: ["admin", "issuer", "auditor"] },
  { name: "get policy", method: "GET", path: () => "/v1/tenant/policy", allowed: ["admin", "auditor"] },
  { name: "patch policy", method: "PATCH", path: () => "/v1/tenant/policy", body: { auto_revoke: true }, allowed: ["admin"] },
  { name: "create api key", method: "POST", path: () => "/v1/api-keys", body: { name: "k", role: "auditor" }, allowed: ["admin"] },
  { name: "list api keys", method: "GET", path: () => "/v1/api-keys", allowed: ["admin"] },
  { name: "revoke api key", method: "DELETE", path: (i) => `/v1/api-keys/${i.key}`, allowed: ["admin"] },
  { name: "list dead letters", method: "GET", path: () => "/v1/admin/dead-letters", allowed: ["admin"] },
];

describe.each(dbKinds())("security on %s", (kind) => {
  let o: TestOrigin;
  const keys: Record<Role, string> = { admin: "", issuer: "", auditor: "" };
  let otherAdmin = "";

  beforeAll(async () => {
    o = await startTestOrigin(kind);
    keys.admin = o.adminKey;
    for (const role of ["issuer", "auditor"] as const) {
      keys[role] = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: role, role } })).body.data.key;
    }
    const t = await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: "other-bank" } });
    expect(t.status).toBe(201);
    otherAdmin = t.body.data.admin_api_key;
  });
  afterAll(async () => { await o.close(); });

  /** Fresh records for one operation, so destructive ones (revoke, retire) never see stale state. */
  async function fixture(): Promise<Ids> {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.id;
    const key = (await o.json<{ data: { id: string } }>("POST", "/v1/api-keys", { body: { name: "victim", role: "auditor" } })).body.data.id;
    // An agent without a certificate, for certify.
    const bare = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    return { agent, cert, key, bare };
  }

  it.each(OPS)("role matrix: $name", async (op) => {
    for (const role of ["admin", "issuer", "auditor"] as const) {
      const ids = await fixture();
      const r = await o.json<{ status: number; type: string }>(op.method, op.path(ids), { key: keys[role], body: op.body });
      if (op.allowed.includes(role)) {
        expect([401, 403], `${role} ${op.name}`).not.toContain(r.status);
        expect(r.status, `${role} ${op.name}`).toBeLessThan(300);
      } else {
        expect(r.status, `${role} ${op.name}`).toBe(403);
        expect(r.body.type).toBe("urn:kakunin:problem:forbidden");
      }
    }
  });

  it.each(OPS.filter((op) => op.path({ agent: "A", cert: "C", key: "K", bare: "B" }).match(/\/(A|B|C|K)(\/|$)/)))(
    "another tenant's admin gets 404 — exactly like a missing record — for: $name",
    async (op) => {
      const ids = await fixture();
      const r = await o.json<{ type: string; detail: string }>(op.method, op.path(ids), { key: otherAdmin, body: op.body });
      expect(r.status).toBe(404);
      expect(r.body.type).toBe("urn:kakunin:problem:not-found");
      const missing = await o.json<{ type: string }>(op.method, op.path({ agent: crypto.randomUUID(), cert: crypto.randomUUID(), key: crypto.randomUUID(), bare: crypto.randomUUID() }), { key: otherAdmin, body: op.body });
      expect(missing.status).toBe(404);
      // Nothing changed for the owner.
      const agent = await o.json<{ data: { status: string; scopes: string[] } }>("GET", `/v1/agents/${ids.agent}`);
      expect(agent.body.data.status).toBe("active");
      expect((await o.json<{ data: { status: string } }>("GET", `/v1/certificates/${ids.cert}`)).body.data.status).toBe("active");
      expect((await o.json<{ data: unknown[] }>("GET", `/v1/agents/${ids.bare}/certificates`)).body.data).toEqual([]);
    },
  );

  it("lists never leak across tenants", async () => {
    await fixture();
    const mine = await o.json<{ data: { tenant_id: string }[] }>("GET", "/v1/agents?limit=200");
    const theirs = await o.json<{ data: unknown[] }>("GET", "/v1/agents?limit=200", { key: otherAdmin });
    expect(mine.body.data.length).toBeGreaterThan(0);
    expect(theirs.body.data).toEqual([]);
    const keysOther = await o.json<{ data: { name: string }[] }>("GET", "/v1/api-keys", { key: otherAdmin });
    expect(keysOther.body.data.map((k) => k.name)).toEqual(["initial admin"]);
  });

  it("each tenant has its own issuing CA under the same root", async () => {
    const a = await o.json<{ data: { issuing: { subject: string; serial_number: string }; root: { serial_number: string } } }>("GET", "/v1/ca");
    const b = await o.json<{ data: { issuing: { subject: string; serial_number: string }; root: { serial_number: string } } }>("GET", "/v1/ca", { key: otherAdmin });
    expect(a.body.data.root.serial_number).toBe(b.body.data.root.serial_number);
    expect(a.body.data.issuing.serial_number).not.toBe(b.body.data.issuing.serial_number);
    expect(b.body.data.issuing.subject).toContain("O=other-bank");
  });

  it("only the operator tenant creates tenants; names are unique", async () => {
    expect((await o.json("POST", "/v1/tenants", { key: otherAdmin, body: { name: "x" } })).status).toBe(403);
    expect((await o.json("POST", "/v1/tenants", { body: { name: "other-bank" } })).status).toBe(409);
    expect((await o.json("POST", "/v1/tenants", { body: { name: "bad,name" } })).status).toBe(422);
  });

  it("a revoked API key stops working at once", async () => {
    const k = (await o.json<{ data: { id: string; key: string } }>("POST", "/v1/api-keys", { body: { name: "temp", role: "issuer" } })).body.data;
    expect((await o.json("GET", "/v1/agents", { key: k.key })).status).toBe(200);
    expect((await o.json("DELETE", `/v1/api-keys/${k.id}`)).status).toBe(200);
    expect((await o.json("GET", "/v1/agents", { key: k.key })).status).toBe(401);
    expect((await o.json("DELETE", `/v1/api-keys/${k.id}`)).status).toBe(409);
  });

  it("API keys are stored hashed, never in plaintext", async () => {
    const k = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "hashcheck", role: "auditor" } })).body.data.key;
    const { sql } = await import("drizzle-orm");
    const rows = await o.services.db.execute(sql`select key_hash from api_keys`);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(k);
    expect(dump).not.toContain(o.adminKey);
  });
});
