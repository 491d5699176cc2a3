import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, allPages, dbKinds, SAMPLE_HASH, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Agent { id: string; urn: string; tenant_id: string; name: string; status: string; scopes: string[]; model: { hash: string }; created_at: string }
interface Problem { type: string; title: string; status: number; detail: string; errors?: { path: string; message: string }[] }

describe.each(dbKinds())("agents on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => { o = await startTestOrigin(kind); });
  afterAll(async () => { await o.close(); });

  it("creates an agent with the contract's fields (201)", async () => {
    const r = await o.json<{ data: Agent }>("POST", "/v1/agents", { body: agentBody() });
    expect(r.status).toBe(201);
    const a = r.body.data;
    expect(a.urn).toBe(`urn:kakunin:agent:${a.id}`);
    expect(a).toMatchObject({
      name: "trading-bot-7f3a", status: "active", scopes: ["orders.*", "crm.lookup_customer"],
      model: { name: "gpt-4o", version: "2024-08-06", hash: SAMPLE_HASH },
      owner: { name: "Alice Risk", email: "alice@bank.example" },
    });
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(r.res.headers.get("location")).toBe(`/v1/agents/${a.id}`);
    const got = await o.json<{ data: Agent }>("GET", `/v1/agents/${a.id}`);
    expect(got.status).toBe(200);
    expect(got.body.data).toEqual(a);
  });

  it("lists with cursor pagination, every agent exactly once", async () => {
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await o.json<{ data: Agent }>("POST", "/v1/agents", { body: agentBody({ name: `page-${i}` }) });
      created.push(r.body.data.id);
    }
    const seen = (await allPages<Agent>(o, "/v1/agents", 3)).rows.map((a) => a.id);
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of created) expect(seen).toContain(id);
  });

  it("rejects a bad limit or a forged cursor with 422", async () => {
    for (const q of ["?limit=0", "?limit=201", "?limit=abc", "?cursor=not-a-cursor"]) {
      const r = await o.json<Problem>("GET", `/v1/agents${q}`);
      expect(r.status, q).toBe(422);
      expect(r.res.headers.get("content-type")).toBe("application/problem+json");
      expect(r.body.errors?.length, q).toBeGreaterThan(0);
    }
    // The agent's event list reads its cursor the same way.
    const agent = (await o.json<{ data: Agent }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const events = await o.json<Problem>("GET", `/v1/agents/${agent}/events?cursor=not-a-cursor`);
    expect(events.status).toBe(422);
    expect(events.body.errors).toEqual([{ path: "cursor", message: "not a cursor returned by this API" }]);
  });

  it("patches fields and keeps the rest", async () => {
    const a = (await o.json<{ data: Agent }>("POST", "/v1/agents", { body: agentBody() })).body.data;
    const r = await o.json<{ data: Agent }>("PATCH", `/v1/agents/${a.id}`, { body: { scopes: ["payments.read"], model: { version: "2025-01-01" } } });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ name: a.name, scopes: ["payments.read"], model: { name: "gpt-4o", version: "2025-01-01", hash: SAMPLE_HASH } });
  });

  it("retires once (200), then 409, and a retired agent cannot be patched (422)", async () => {
    const a = (await o.json<{ data: Agent }>("POST", "/v1/agents", { body: agentBody() })).body.data;
    const r1 = await o.json<{ data: Agent }>("POST", `/v1/agents/${a.id}/retire`);
    expect(r1.status).toBe(200);
    expect(r1.body.data.status).toBe("retired");
    const r2 = await o.json<Problem>("POST", `/v1/agents/${a.id}/retire`);
    expect(r2.status).toBe(409);
    const r3 = await o.json<Problem>("PATCH", `/v1/agents/${a.id}`, { body: { name: "x" } });
    expect(r3.status).toBe(422);
    expect(r3.body.type).toBe("urn:kakunin:problem:agent-retired");
  });

  describe("bad input", () => {
    it("422 lists every failing field", async () => {
      const r = await o.json<Problem>("POST", "/v1/agents", {
        body: { name: "", model: { name: "m", version: "1", hash: "md5:abc" }, owner: { name: "o", email: "not-an-email" }, scopes: ["bad scope!"] },
      });
      expect(r.status).toBe(422);
      expect(r.body).toMatchObject({ type: "urn:kakunin:problem:validation-failed", title: "Validation failed", status: 422 });
      const paths = r.body.errors!.map((e) => e.path).sort();
      expect(paths).toEqual(["model.hash", "name", "owner.email", "scopes.0"]);
    });

    it("422 for missing fields, unknown fields and wrong types", async () => {
      for (const body of [{}, { ...agentBody(), extra: 1 }, { ...agentBody(), scopes: "orders.*" }, [], "just a string", null]) {
        const r = await o.json<Problem>("POST", "/v1/agents", { body });
        expect(r.status, JSON.stringify(body)).toBe(422);
      }
    });

    it("400 for malformed JSON", async () => {
      const r = await o.json<Problem>("POST", "/v1/agents", { rawBody: '{"name": ', headers: { "content-type": "application/json" } });
      expect(r.status).toBe(400);
      expect(r.body.type).toBe("urn:kakunin:problem:malformed-json");
    });

    it("415 for a body that is not JSON", async () => {
      const r = await o.json<Problem>("POST", "/v1/agents", { rawBody: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect(r.status).toBe(415);
      const r2 = await o.json<Problem>("POST", "/v1/agents", { rawBody: JSON.stringify(agentBody()), headers: { "content-type": "text/plain" } });
      expect(r2.status).toBe(415);
    });

    it("413 for a body over 1 MiB, and nothing is created", async () => {
      const before = (await o.json<{ data: Agent[] }>("GET", "/v1/agents?limit=200")).body.data.length;
      const huge = JSON.stringify(agentBody({ name: "x".repeat(1024 * 1024 + 10) }));
      const r = await o.json<Problem>("POST", "/v1/agents", { rawBody: huge, headers: { "content-type": "application/json" } });
      expect(r.status).toBe(413);
      expect(r.body.type).toBe("urn:kakunin:problem:payload-too-large");
      const after = (await o.json<{ data: Agent[] }>("GET", "/v1/agents?limit=200")).body.data.length;
      expect(after).toBe(before);
    });

    it("404 problem for unknown routes, unknown ids and malformed ids", async () => {
      for (const path of ["/v1/nothing", "/v1/agents/00000000-0000-4000-8000-000000000000", "/v1/agents/not-a-uuid", "/v1/certificates/zzz"]) {
        const r = await o.json<Problem>("GET", path);
        expect(r.status, path).toBe(404);
        expect(r.res.headers.get("content-type")).toBe("application/problem+json");
        expect(r.body.type).toBe("urn:kakunin:problem:not-found");
      }
    });

    it("401 without a key, with a wrong key or a malformed header", async () => {
      for (const headers of <Record<string, string>[]>[{}, { authorization: "Bearer kk_wrong" }, { authorization: "Basic Zm9vOmJhcg==" }, { authorization: "Bearer" }]) {
        const r = await o.json<Problem>("GET", "/v1/agents", { key: null, headers });
        expect(r.status, JSON.stringify(headers)).toBe(401);
        expect(r.body.type).toBe("urn:kakunin:problem:unauthorized");
        expect(r.res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      }
    });

    it("never answers with a stack trace", async () => {
      const r = await o.request("POST", "/v1/agents", { rawBody: "{", headers: { "content-type": "application/json" } });
      const text = await r.text();
      expect(text).not.toMatch(/at .*\.ts:\d+|Error:/);
    });
  });
});
