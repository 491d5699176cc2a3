/**
 * Every state-changing operation and its audit entries commit together or not at all, under a
 * fault between the two. Two faults, injected with real triggers on the real database (PGlite and
 * PostgreSQL): the append itself fails (a database error on `audit_entries`), and the commit fails
 * after every statement of the operation ran (a deferred constraint trigger, i.e. a crash or a
 * lost connection at COMMIT). For each operation: the call fails with a problem, no domain table
 * changed (a digest of every row) and the log did not grow; then the same call without the fault
 * succeeds and appends its entries, and at the end the whole log's hash chain and leaves are intact
 * (a rolled-back append leaves nothing behind in this origin's memory either).
 *
 * The list of operations is every state-changing route of the app (non-GET, plus the evidence
 * export, which appends a checkpoint): a route missing from OPS fails the first test.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { buryDeadLetter } from "../src/lifecycle/dead-letters.ts";
import { riskDecisions } from "../src/db/schema.ts";
import { agentBody, dbKinds, forwardedEvent, postInternal, rowsOf, startTestOrigin, type TestOrigin } from "./harness.ts";
import { leaf } from "./rfc9162.ts";

/** Rows whose changes are audited (key intents, nonces and caches are not: they are written outside by design). */
const DOMAIN = [
  "tenants",
  "api_keys",
  "agent_credentials",
  "ingest_token_minters",
  "ca_requests",
  "root_crls",
  "agents",
  "certificates",
  "agent_events",
  "risk_decisions",
  "reviews",
  "webhook_endpoints",
  "webhook_deliveries",
  "console_sessions",
  "outbox",
  "dead_letters",
];

interface Op {
  /** Fresh records for one call (each op runs three times: two faults, then for real). */
  setup(o: TestOrigin): Promise<Record<string, string>>;
  call(o: TestOrigin, ids: Record<string, string>): Promise<Response>;
  /** Entry kinds the successful call appends (in order), or null when it varies (nothing may still be appended under a fault). */
  kinds: string[] | null;
  /** Routes not driven here, with why (their atomicity is the same code path as another op's, or they refuse in this mode). */
  skip?: string;
}

let tenantId = "";

async function certified(o: TestOrigin): Promise<{ agent: string; cert: string; serial: string }> {
  const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
  const c = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
  return { agent, cert: c.id, serial: c.serial_number };
}

async function flagged(o: TestOrigin): Promise<Record<string, string>> {
  const { agent, serial } = await certified(o);
  await o.services.db.insert(riskDecisions).values({
    alertId: `fault-${agent}`,
    tenantId,
    agentId: agent,
    serialNumber: serial,
    score: 0.9,
    decision: "flagged",
    autoRevoke: false,
    reasons: [],
    eventIds: [],
    triggeredAt: new Date(),
  });
  return { agent };
}

const OPS: Record<string, Op> = {
  "POST /v1/agents": { setup: async () => ({}), call: (o) => o.request("POST", "/v1/agents", { body: agentBody() }), kinds: ["agent.created"] },
  "PATCH /v1/agents/{id}": {
    setup: async (o) => certified(o),
    call: (o, i) => o.request("PATCH", `/v1/agents/${i.agent}`, { body: { model: { hash: `sha256:${"cd".repeat(32)}` }, scopes: ["*"] } }),
    kinds: ["certificate.revoked", "agent.updated"],
  },
  "POST /v1/agents/{id}/retire": {
    setup: async (o) => certified(o),
    call: (o, i) => o.request("POST", `/v1/agents/${i.agent}/retire`),
    kinds: ["certificate.revoked", "agent.retired"],
  },
  "POST /v1/agents/{id}/certify": {
    setup: async (o) => {
      const { agent, cert } = await certified(o);
      await o.json("POST", `/v1/certificates/${cert}/revoke`, { body: { reason: "investigation" } });
      return { agent };
    },
    call: (o, i) => o.request("POST", `/v1/agents/${i.agent}/certify`, { body: { reason: "cleared" } }),
    kinds: ["agent.suspension_lifted", "key.created", "certificate.issued"],
  },
  "POST /v1/agents/{id}/certificates/renew": {
    setup: async (o) => certified(o),
    call: (o, i) => o.request("POST", `/v1/agents/${i.agent}/certificates/renew`, { body: {} }),
    kinds: ["key.created", "certificate.issued", "certificate.renewed"],
  },
  "POST /v1/certificates/{id}/revoke": {
    setup: async (o) => certified(o),
    call: (o, i) => o.request("POST", `/v1/certificates/${i.cert}/revoke`, { body: { reason: "keyCompromise" } }),
    kinds: ["certificate.revoked"],
  },
  "POST /v1/agents/{id}/sign": {
    setup: async (o) => certified(o),
    call: (o, i) => o.request("POST", `/v1/agents/${i.agent}/sign`, { body: { payload_b64: "aGk=" } }),
    kinds: ["key.signed"],
  },
  "POST /v1/agents/{id}/ingest-tokens": {
    setup: async (o) => certified(o),
    call: (o, i) => o.request("POST", `/v1/agents/${i.agent}/ingest-tokens`),
    kinds: ["ingest_token.issued"],
  },
  "POST /v1/agents/{id}/credentials": {
    setup: async (o) => certified(o),
    call: (o, i) => o.request("POST", `/v1/agents/${i.agent}/credentials`, { body: { name: "runtime" } }),
    kinds: ["agent_credential.created"],
  },
  "POST /v1/agents/{id}/credentials/{cid}/revoke": {
    setup: async (o) => {
      const { agent } = await certified(o);
      const cred = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/credentials`, { body: { name: "runtime" } })).body.data.id;
      return { agent, cred };
    },
    call: (o, i) => o.request("POST", `/v1/agents/${i.agent}/credentials/${i.cred}/revoke`),
    kinds: ["agent_credential.revoked"],
  },
  "POST /v1/agents/{id}/review": {
    setup: flagged,
    call: (o, i) => o.request("POST", `/v1/agents/${i.agent}/review`, { body: { decision: "revoke", reason: "confirmed" } }),
    kinds: ["certificate.revoked", "review.decided"],
  },
  "GET /v1/agents/{id}/evidence": {
    setup: async (o) => certified(o),
    call: (o, i) => o.request("GET", `/v1/agents/${i.agent}/evidence`),
    kinds: ["evidence.exported"],
  },
  "POST /v1/api-keys": {
    setup: async () => ({}),
    call: (o) => o.request("POST", "/v1/api-keys", { body: { name: "k", role: "auditor" } }),
    kinds: ["api_key.created"],
  },
  "DELETE /v1/api-keys/{id}": {
    setup: async (o) => ({ key: (await o.json<{ data: { id: string } }>("POST", "/v1/api-keys", { body: { name: "k", role: "auditor" } })).body.data.id }),
    call: (o, i) => o.request("DELETE", `/v1/api-keys/${i.key}`),
    kinds: ["api_key.revoked"],
  },
  "PATCH /v1/tenant/policy": {
    setup: async () => ({}),
    call: (o) => o.request("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } }),
    kinds: ["policy.updated"],
  },
  "PATCH /v1/tenant/scoring": {
    setup: async () => ({}),
    call: (o) => o.request("PATCH", "/v1/tenant/scoring", { body: { thresholds: { high: 0.9 } } }),
    kinds: ["scoring.updated"],
  },
  "POST /v1/tenant/webhooks": {
    setup: async () => ({}),
    call: (o) => o.request("POST", "/v1/tenant/webhooks", { body: { url: "https://93.184.216.34/hook" } }),
    kinds: ["webhook.created"],
  },
  "DELETE /v1/tenant/webhooks/{id}": {
    setup: async (o) => ({
      hook: (await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { body: { url: "https://93.184.216.34/hook" } })).body.data.id,
    }),
    call: (o, i) => o.request("DELETE", `/v1/tenant/webhooks/${i.hook}`),
    kinds: ["webhook.deleted"],
  },
  "POST /v1/tenant/webhooks/{id}/replay": {
    setup: async (o) => ({
      hook: (await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { body: { url: "https://93.184.216.34/hook" } })).body.data.id,
    }),
    call: (o, i) => o.request("POST", `/v1/tenant/webhooks/${i.hook}/replay`, { body: {} }),
    kinds: ["webhook.replayed"],
  },
  "POST /v1/tenant/ca/rollover": { setup: async () => ({}), call: (o) => o.request("POST", "/v1/tenant/ca/rollover"), kinds: ["ca.rolled_over"] },
  "POST /v1/tenants": {
    setup: async () => ({ name: `fault-${crypto.randomUUID().slice(0, 8)}` }),
    call: (o, i) => o.request("POST", "/v1/tenants", { body: { name: i.name } }),
    // The operator's record of it (the new tenant's own entries are in its log).
    kinds: ["tenant.created"],
  },
  "POST /v1/admin/dead-letters/{id}/replay": {
    setup: async (o) => {
      const { agent, serial } = await certified(o);
      const ev = forwardedEvent(
        { agent, tenant: tenantId, serial },
        { event_id: `dl-${agent}`, timestamp: new Date().toISOString(), type: "tool_call", action: "orders.place", outcome: "success" },
      );
      const now = new Date();
      await buryDeadLetter(
        o.services.db,
        {
          key: `fault:${agent}`,
          source: "edge",
          kind: "event",
          tenantId,
          agentId: agent,
          ref: `dl-${agent}`,
          status: 500,
          error: "x",
          attempts: 6,
          payload: JSON.stringify(ev),
          firstFailedAt: now,
        },
        now,
      );
      const listed = await o.json<{ data: { id: string; ref: string }[] }>("GET", "/v1/admin/dead-letters?limit=200");
      return { id: listed.body.data.find((l) => l.ref === `dl-${agent}`)!.id };
    },
    call: (o, i) => o.request("POST", `/v1/admin/dead-letters/${i.id}/replay`),
    kinds: ["event.ingested", "dead_letter.replayed"],
  },
  "POST /internal/v1/events": {
    setup: async (o) => certified(o),
    call: (o, i) =>
      postInternal(o, "/internal/v1/events", {
        events: [
          forwardedEvent(
            { agent: i.agent!, tenant: tenantId, serial: i.serial! },
            { event_id: "e1", timestamp: new Date().toISOString(), type: "tool_call", action: "orders.place", outcome: "success" },
          ),
        ],
      }),
    kinds: ["event.ingested"],
  },
  "POST /internal/v1/risk-alerts": {
    setup: async (o) => {
      const c = await certified(o);
      await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: true } });
      return c;
    },
    call: (o, i) =>
      postInternal(o, "/internal/v1/risk-alerts", {
        wire_version: 2,
        alert_id: `al-${i.agent}`,
        agent_id: i.agent,
        tenant_id: tenantId,
        serial_number: i.serial,
        score: 0.95,
        reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "x" }],
        event_ids: [],
        triggered_at: new Date().toISOString(),
      }),
    kinds: ["certificate.revoked", "risk.decision"],
  },
  "POST /v1/admin/tidy": {
    setup: async (o) => {
      const { cert } = await certified(o);
      await o.json("POST", `/v1/certificates/${cert}/revoke`, { body: { reason: "gone" } });
      return {};
    },
    call: (o) => o.request("POST", "/v1/admin/tidy", { body: { safety_buffer_seconds: 0 } }),
    kinds: null,
  },
  "POST /internal/v1/dead-letters": {
    setup: async () => ({}),
    call: async () => new Response(),
    kinds: [],
    skip: "dead letters are not audited records (no state an entry describes)",
  },
  "POST /v1/init": {
    setup: async () => ({}),
    call: async () => new Response(),
    kinds: [],
    skip: "refused (409) once the tenant has an admin key; its transaction is bootstrap's (init.test.ts)",
  },
  "POST /v1/tenant/ca/csr": {
    setup: async () => ({}),
    call: async () => new Response(),
    kinds: [],
    skip: "offline-root mode only (offline-root.test.ts); the same appendAudit-in-transaction as rollover",
  },
  "POST /v1/tenant/ca/import": {
    setup: async () => ({}),
    call: async () => new Response(),
    kinds: [],
    skip: "offline-root mode only; activates through activate-issuing.ts, as rollover does",
  },
  "POST /v1/admin/ca/root/crl": { setup: async () => ({}), call: async () => new Response(), kinds: [], skip: "offline-root mode only" },
};

async function digest(o: TestOrigin): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of [...DOMAIN, "authorities"]) {
    // issued_count is bumped outside the issuing transaction on purpose (a CRL partition is allocated before the key exists).
    const row = `(to_jsonb(t) - 'issued_count')::text`;
    const r = await o.services.db.execute(sql.raw(`select count(*)::text as n, coalesce(md5(string_agg(${row}, '|' order by ${row})), '') as h from ${t} t`));
    const [x] = rowsOf<{ n: string; h: string }>(r);
    out[t] = `${x!.n}:${x!.h}`;
  }
  return out;
}

async function logSize(o: TestOrigin): Promise<number> {
  const r = await o.services.db.execute(sql`select coalesce(sum(size), 0)::int as n from audit_heads`);
  return Number(rowsOf<{ n: number }>(r)[0]!.n);
}

async function tenantLogSize(o: TestOrigin): Promise<number> {
  const r = await o.services.db.execute(sql`select size from audit_heads where tenant_id = ${tenantId}`);
  return Number(rowsOf<{ size: number }>(r)[0]!.size);
}

describe.each(dbKinds())("audit atomicity under faults on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind, { env: { KAKUNIN_WEBHOOK_MAX_ENDPOINTS: "1000" } });
    tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    for (const stmt of [
      "create table zz_fault (mode text not null)",
      `create function zz_fault_now() returns trigger language plpgsql as $$
        begin if exists (select 1 from zz_fault where mode = 'append') then raise exception 'injected fault at the append'; end if; return new; end $$`,
      `create function zz_fault_commit() returns trigger language plpgsql as $$
        begin if exists (select 1 from zz_fault where mode = 'commit') then raise exception 'injected fault at commit'; end if; return new; end $$`,
      "create trigger zz_fault_append before insert on audit_entries for each row execute function zz_fault_now()",
      "create constraint trigger zz_fault_at_commit after insert on audit_entries deferrable initially deferred for each row execute function zz_fault_commit()",
    ]) {
      await o.services.db.execute(sql.raw(stmt));
    }
  }, 120_000);
  afterAll(async () => {
    await o.close();
  });

  it("every state-changing route has a row (a new one must decide how its atomicity is tested)", () => {
    const app = createApp(o.services);
    const mutating = new Set(
      app.routes
        .filter((r) => !["GET", "HEAD", "OPTIONS", "ALL"].includes(r.method) && (r.path.startsWith("/v1/") || r.path.startsWith("/internal/")))
        .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
    );
    const rows = new Set(Object.keys(OPS).filter((k) => !k.startsWith("GET ")));
    expect([...mutating].sort()).toEqual([...rows].sort());
  });

  it.each(Object.entries(OPS).filter(([, op]) => !op.skip))("%s: nothing without its entry, no entry without it", async (name, op) => {
    for (const mode of ["append", "commit"]) {
      const ids = await op.setup(o);
      const before = await digest(o);
      const size = await logSize(o);
      await o.services.db.execute(sql.raw(`insert into zz_fault values ('${mode}')`));
      let r: Response;
      try {
        r = await op.call(o, ids);
      } finally {
        await o.services.db.execute(sql.raw("delete from zz_fault"));
      }
      const label = `${name} with a fault at the ${mode}: ${r.status} ${(await r.text()).slice(0, 300)}`;
      if (op.kinds === null) {
        // Tidy works in small transactions (one per key): each key's claim commits with its entry or not at all.
        expect(await logSize(o), label).toBe(size);
        continue;
      }
      expect(r.status, label).toBeGreaterThanOrEqual(500);
      expect(r.headers.get("content-type"), label).toContain("application/problem+json");
      expect(await logSize(o), label).toBe(size);
      expect(await digest(o), label).toEqual(before);
    }
    const ids = await op.setup(o);
    const size = await tenantLogSize(o);
    const r = await op.call(o, ids);
    const text = await r.text();
    expect(r.status, `${name}: ${r.status} ${text.slice(0, 300)}`).toBeLessThan(300);
    if (op.kinds !== null && op.kinds.length > 0) {
      const r2 = await o.services.db.execute(sql`select kind from audit_entries where tenant_id = ${tenantId} and idx >= ${size} order by idx`);
      const kinds = rowsOf<{ kind: string }>(r2).map((x) => x.kind);
      for (const k of op.kinds) expect(kinds, name).toContain(k);
    }
  });

  it("after every rolled-back append, the log is still one unbroken chain of its leaves", async () => {
    const r = await o.services.db.execute(
      sql`select idx, canonical, encode(leaf_hash, 'hex') as leaf from audit_entries where tenant_id = ${tenantId} order by idx`,
    );
    const rows = rowsOf<{ idx: number | string; canonical: string; leaf: string }>(r);
    expect(rows.length).toBeGreaterThan(50);
    rows.forEach((e, i) => {
      expect(Number(e.idx)).toBe(i);
      expect(leaf(Buffer.from(e.canonical)).toString("hex")).toBe(e.leaf);
      expect((JSON.parse(e.canonical) as { prev: string | null }).prev).toBe(i === 0 ? null : rows[i - 1]!.leaf);
    });
  });
});
