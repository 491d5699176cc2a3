import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { riskDecisions, webhookEndpoints } from "../src/db/schema.ts";
import { buryDeadLetter } from "../src/lifecycle/dead-letters.ts";
import { sql } from "drizzle-orm";
import { agentBody, dbKinds, rowsOf, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * Every origin route × every kind of caller. The route list comes from /openapi.json (which is
 * built from routes/index.ts): a route without a row below fails the first test, so nobody adds
 * a route without deciding who may call it.
 */
type Who = "admin" | "issuer" | "auditor" | "agentA" | "agentB" | "otherTenant";
const WHO: Who[] = ["admin", "issuer", "auditor", "agentA", "agentB", "otherTenant"];
type Allowed = "admin" | "issuer" | "auditor" | "agent";

interface Ids { agent: string; cert: string; key: string; bare: string; cred: string; deadLetter: string; hook: string }
interface Row {
  /**
   * `public`: no credential at all is needed (health, the one-time init exchange). `internal`: only
   * the edge's HMAC signature opens it; every bearer key gets 401.
   */
  allowed: Allowed[] | "public" | "internal";
  path(i: Ids): string;
  body?: unknown;
  /** What another tenant's admin gets: 404 for a record of ours, its own tenant's answer, or 403. */
  other: 404 | "own" | 403;
  /** Changes state: every caller gets fresh records. */
  destructive?: boolean;
  /**
   * The answer an allowed caller gets on this (online-root) origin, when not a 2xx: the offline-root
   * routes answer 409 here. Their 2xx paths are in offline-root.test.ts; the role checks are the same.
   */
  allowedStatus?: number;
}

const MATRIX: Record<string, Row> = {
  "GET /healthz": { allowed: "public", path: () => "/healthz", other: "own" },
  "GET /readyz": { allowed: "public", path: () => "/readyz", other: "own" },
  // Open unless KAKUNIN_METRICS_TOKEN is set (then its own bearer token, not an API key: observability.test.ts).
  "GET /metrics": { allowed: "public", path: () => "/metrics", other: "own" },
  "GET /v1/admin/dead-letters": { allowed: ["admin"], path: () => "/v1/admin/dead-letters", other: "own" },
  "POST /v1/admin/dead-letters/{id}/replay": { allowed: ["admin"], path: (i) => `/v1/admin/dead-letters/${i.deadLetter}/replay`, other: 404, destructive: true },
  // Operator tenant's admins only: tidy deletes keys of every tenant.
  "POST /v1/admin/tidy": { allowed: ["admin"], path: () => "/v1/admin/tidy", other: 403 },
  "POST /v1/agents/{id}/certificates/renew": { allowed: ["admin", "issuer"], path: (i) => `/v1/agents/${i.agent}/certificates/renew`, other: 404, destructive: true },
  "POST /v1/tenant/ca/rollover": { allowed: ["admin"], path: () => "/v1/tenant/ca/rollover", other: "own", destructive: true },
  "POST /v1/tenant/ca/csr": { allowed: ["admin"], path: () => "/v1/tenant/ca/csr", other: "own", allowedStatus: 409 },
  "POST /v1/tenant/ca/import": { allowed: ["admin"], path: () => "/v1/tenant/ca/import", body: { certificate_pem: "x" }, other: "own", allowedStatus: 409 },
  // Operator tenant's admins only: the root serves every tenant.
  "POST /v1/admin/ca/root/crl": { allowed: ["admin"], path: () => "/v1/admin/ca/root/crl", body: { crl: "AAAA" }, other: 403, allowedStatus: 409 },
  "POST /v1/init": { allowed: "public", path: () => "/v1/init", body: { bootstrap_token: "kki_x" }, other: "own" },
  "POST /internal/v1/events": { allowed: "internal", path: () => "/internal/v1/events", body: { events: [] }, other: "own" },
  "POST /internal/v1/risk-alerts": { allowed: "internal", path: () => "/internal/v1/risk-alerts", body: {}, other: "own" },
  "POST /internal/v1/dead-letters": { allowed: "internal", path: () => "/internal/v1/dead-letters", body: {}, other: "own" },
  "POST /v1/agents": { allowed: ["admin", "issuer"], path: () => "/v1/agents", body: agentBody(), other: "own" },
  "GET /v1/agents": { allowed: ["admin", "issuer", "auditor"], path: () => "/v1/agents", other: "own" },
  "GET /v1/agents/{id}": { allowed: ["admin", "issuer", "auditor"], path: (i) => `/v1/agents/${i.agent}`, other: 404 },
  "PATCH /v1/agents/{id}": { allowed: ["admin", "issuer"], path: (i) => `/v1/agents/${i.agent}`, body: { scopes: ["*"] }, other: 404, destructive: true },
  "POST /v1/agents/{id}/retire": { allowed: ["admin", "issuer"], path: (i) => `/v1/agents/${i.agent}/retire`, other: 404, destructive: true },
  "POST /v1/agents/{id}/certify": { allowed: ["admin", "issuer"], path: (i) => `/v1/agents/${i.bare}/certify`, other: 404, destructive: true },
  "GET /v1/agents/{id}/certificates": { allowed: ["admin", "issuer", "auditor"], path: (i) => `/v1/agents/${i.agent}/certificates`, other: 404 },
  "POST /v1/agents/{id}/sign": { allowed: ["admin", "issuer", "agent"], path: (i) => `/v1/agents/${i.agent}/sign`, body: { payload_b64: "aGk=" }, other: 404 },
  // Read from the edge with a signed call: this origin has no edge, so an allowed caller gets 503.
  "GET /v1/agents/{id}/risk": { allowed: ["admin", "issuer", "auditor", "agent"], path: (i) => `/v1/agents/${i.agent}/risk`, other: 404, allowedStatus: 503 },
  "POST /v1/agents/{id}/ingest-tokens": { allowed: ["admin", "issuer", "agent"], path: (i) => `/v1/agents/${i.agent}/ingest-tokens`, body: { ttl_seconds: 600 }, other: 404 },
  "GET /v1/agents/{id}/events": { allowed: ["admin", "auditor"], path: (i) => `/v1/agents/${i.agent}/events`, other: 404 },
  "GET /v1/agents/{id}/evidence": { allowed: ["admin", "auditor"], path: (i) => `/v1/agents/${i.agent}/evidence`, other: 404 },
  "POST /v1/agents/{id}/credentials": { allowed: ["admin", "issuer"], path: (i) => `/v1/agents/${i.agent}/credentials`, body: { name: "runtime" }, other: 404, destructive: true },
  "GET /v1/agents/{id}/credentials": { allowed: ["admin", "issuer", "auditor"], path: (i) => `/v1/agents/${i.agent}/credentials`, other: 404 },
  "POST /v1/agents/{id}/credentials/{cid}/revoke": {
    allowed: ["admin", "issuer"], path: (i) => `/v1/agents/${i.agent}/credentials/${i.cred}/revoke`, other: 404, destructive: true,
  },
  "GET /v1/certificates/{id}": { allowed: ["admin", "issuer", "auditor"], path: (i) => `/v1/certificates/${i.cert}`, other: 404 },
  "POST /v1/certificates/{id}/revoke": { allowed: ["admin", "issuer"], path: (i) => `/v1/certificates/${i.cert}/revoke`, body: { reason: "matrix" }, other: 404, destructive: true },
  "GET /v1/ca": { allowed: ["admin", "issuer", "auditor"], path: () => "/v1/ca", other: "own" },
  "GET /v1/tenant": { allowed: ["admin", "issuer", "auditor"], path: () => "/v1/tenant", other: "own" },
  "GET /v1/tenant/policy": { allowed: ["admin", "auditor"], path: () => "/v1/tenant/policy", other: "own" },
  "PATCH /v1/tenant/policy": { allowed: ["admin"], path: () => "/v1/tenant/policy", body: { auto_revoke: true }, other: "own" },
  "GET /v1/tenant/scoring": { allowed: ["admin", "auditor"], path: () => "/v1/tenant/scoring", other: "own" },
  "PATCH /v1/tenant/scoring": { allowed: ["admin"], path: () => "/v1/tenant/scoring", body: { weights: { latency: 1 } }, other: "own" },
  "GET /v1/tenant/scoring/shadow": { allowed: ["admin", "auditor"], path: () => "/v1/tenant/scoring/shadow", other: "own" },
  "GET /v1/reviews": { allowed: ["admin", "auditor"], path: () => "/v1/reviews", other: "own" },
  // Every fixture's agent A was flagged for review (a risk decision awaiting one), so `clear` succeeds.
  "POST /v1/agents/{id}/review": { allowed: ["admin"], path: (i) => `/v1/agents/${i.agent}/review`, body: { decision: "clear", reason: "matrix" }, other: 404, destructive: true },
  "GET /v1/tenant/webhooks": { allowed: ["admin", "auditor"], path: () => "/v1/tenant/webhooks", other: "own" },
  // A public address literal: registered without DNS (nothing is sent: no dispatcher runs here).
  "POST /v1/tenant/webhooks": { allowed: ["admin"], path: () => "/v1/tenant/webhooks", body: { url: "https://93.184.216.34/hook" }, other: "own" },
  "GET /v1/tenant/webhooks/{id}/deliveries": { allowed: ["admin", "auditor"], path: (i) => `/v1/tenant/webhooks/${i.hook}/deliveries`, other: 404 },
  "POST /v1/tenant/webhooks/{id}/replay": { allowed: ["admin"], path: (i) => `/v1/tenant/webhooks/${i.hook}/replay`, body: {}, other: 404 },
  "DELETE /v1/tenant/webhooks/{id}": { allowed: ["admin"], path: (i) => `/v1/tenant/webhooks/${i.hook}`, other: 404, destructive: true },
  "POST /v1/tenants": { allowed: ["admin"], path: () => "/v1/tenants", body: { name: `t-${crypto.randomUUID()}` }, other: 403, destructive: true },
  "POST /v1/api-keys": { allowed: ["admin"], path: () => "/v1/api-keys", body: { name: "k", role: "auditor" }, other: "own" },
  "GET /v1/api-keys": { allowed: ["admin"], path: () => "/v1/api-keys", other: "own" },
  "DELETE /v1/api-keys/{id}": { allowed: ["admin"], path: (i) => `/v1/api-keys/${i.key}`, other: 404, destructive: true },
  "GET /v1/audit/entries": { allowed: ["admin", "auditor"], path: () => "/v1/audit/entries", other: "own" },
  "GET /v1/audit/tree-head": { allowed: ["admin", "auditor"], path: () => "/v1/audit/tree-head", other: "own" },
  "GET /v1/audit/proofs/inclusion": { allowed: ["admin", "auditor"], path: () => "/v1/audit/proofs/inclusion?entry=0", other: "own" },
  "GET /v1/audit/proofs/consistency": { allowed: ["admin", "auditor"], path: () => "/v1/audit/proofs/consistency?from=1&to=2", other: "own" },
};

describe.each(dbKinds())("role matrix on %s", (kind) => {
  let o: TestOrigin;
  const keys: Partial<Record<Who, string>> = {};
  let shared: Ids & { credKey: string };

  beforeAll(async () => {
    // Every fixture registers a webhook endpoint; the per-tenant cap is tested in webhooks.test.ts.
    o = await startTestOrigin(kind, { env: { KAKUNIN_WEBHOOK_MAX_ENDPOINTS: "1000" } });
    keys.admin = o.adminKey;
    for (const role of ["issuer", "auditor"] as const) {
      keys[role] = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: role, role } })).body.data.key;
    }
    const t = await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: "other-bank" } });
    keys.otherTenant = t.body.data.admin_api_key;
    // Agent B: a certified agent of the same tenant with its own credential.
    const b = await fixture();
    keys.agentB = b.credKey;
    shared = await fixture();
  });
  afterAll(async () => { await o.close(); });

  /** Entries in every tenant's log together. */
  const logSize = async () => Number(rowsOf<{ n: number | string }>(await o.services.db.execute(sql`select coalesce(sum(size), 0) as n from audit_heads`))[0]!.n);

  /** A certified agent A (with a credential for A), an uncertified agent, an API key, a spare credential of A. */
  async function fixture(): Promise<Ids & { credKey: string }> {
    const tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.id;
    const key = (await o.json<{ data: { id: string } }>("POST", "/v1/api-keys", { body: { name: "victim", role: "auditor" } })).body.data.id;
    const bare = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const credKey = (await o.json<{ data: { key: string } }>("POST", `/v1/agents/${agent}/credentials`, { body: { name: "runtime" } })).body.data.key;
    const cred = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/credentials`, { body: { name: "spare" } })).body.data.id;
    // A dead letter of this tenant whose replay succeeds: a publish record, re-queued on replay.
    const dlKey = `matrix:${crypto.randomUUID()}`;
    const now = o.services.clock.now();
    await buryDeadLetter(o.services.db, {
      key: dlKey, source: "origin", kind: "publish", tenantId, agentId: null, ref: `agent:${agent}`, status: 422, error: "matrix",
      attempts: 1, payload: JSON.stringify({ kind: "agent", subject: agent, v: 1 }), firstFailedAt: now,
    }, now);
    const listed = await o.json<{ data: Array<{ id: string; key?: string; ref: string }> }>("GET", "/v1/admin/dead-letters?pending=true");
    const deadLetter = listed.body.data.find((d) => d.ref === `agent:${agent}`)?.id ?? crypto.randomUUID();
    await o.services.db.insert(riskDecisions).values({
      alertId: `matrix-${agent}`, tenantId, agentId: agent, serialNumber: "00", score: 0.9, decision: "flagged", autoRevoke: false,
      reasons: [], eventIds: [], triggeredAt: now,
    });
    // A webhook endpoint row (registering one through the API would need a resolvable public host).
    const [hook] = await o.services.db.insert(webhookEndpoints).values({
      tenantId, url: "https://hooks.example/matrix", secret: "whsec_AAAA", keyId: "whk_matrix", createdAt: now,
    }).returning();
    return { agent, cert, key, bare, cred, credKey, deadLetter, hook: hook!.id };
  }

  it("every route in /openapi.json has exactly one row in the matrix, and no row names a missing route", async () => {
    const doc = (await (await o.request("GET", "/openapi.json", { key: null })).json()) as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(routes.sort()).toEqual(Object.keys(MATRIX).sort());
  });

  it.each(Object.entries(MATRIX))("%s", async (name, row) => {
    for (const who of WHO) {
      const ids = row.destructive ? await fixture() : shared;
      const key = who === "agentA" ? ids.credKey : keys[who]!;
      const logBefore = await logSize();
      const r = await o.json<{ type?: string }>(name.split(" ")[0]!, row.path(ids), { key, body: row.body });
      const label = `${who} → ${name}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`;
      let expected: number | "ok";
      if (row.allowed === "public") expected = "ok";
      else if (row.allowed === "internal") expected = 401;
      else if (who === "otherTenant") expected = row.other === "own" ? "ok" : row.other;
      else if (who === "agentA") expected = row.allowed.includes("agent") ? "ok" : 403;
      else if (who === "agentB") expected = row.allowed.includes("agent") ? 404 : 403;
      else expected = row.allowed.includes(who) ? "ok" : 403;
      if (expected === "ok") {
        expect([401, 403, 404], label).not.toContain(r.status);
        if (row.allowedStatus !== undefined) expect(r.status, label).toBe(row.allowedStatus);
        else if (row.allowed !== "public") expect(r.status, label).toBeLessThan(300);
      } else {
        expect(r.status, label).toBe(expected);
        const type = { 401: "unauthorized", 403: "forbidden", 404: "not-found" }[expected];
        expect(r.body.type, label).toBe(`urn:kakunin:problem:${type}`);
        // A refused call leaves nothing in any tenant's audit log (no entry that reads like a success).
        expect(await logSize(), `${label}: audit entries appended by a refused call`).toBe(logBefore);
      }
    }
  });
});
