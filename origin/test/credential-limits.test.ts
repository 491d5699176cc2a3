import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Problem {
  type: string;
  status: number;
  detail: string;
}

// A leaked admin or issuer key must not be able to mint bearer credentials without bound: each is
// one more secret to find and revoke. Live ones are capped; revoking one frees its place.
describe.each(dbKinds())("caps on live API keys and agent credentials (%s)", (kind) => {
  let o: TestOrigin;
  let issuer = "";
  beforeAll(async () => {
    o = await startTestOrigin(kind, { env: { KAKUNIN_MAX_API_KEYS: "4", KAKUNIN_MAX_AGENT_CREDENTIALS: "3" } });
    issuer = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "issuer", role: "issuer" } })).body.data.key;
  });
  afterAll(async () => {
    await o?.close();
  });

  it("agent credentials: the one past KAKUNIN_MAX_AGENT_CREDENTIALS is 409 credential-limit, even minted at once; a revoked one frees its place", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { key: issuer, body: agentBody() })).body.data.id;
    const mint = () => o.json<{ data: { id: string } } & Problem>("POST", `/v1/agents/${agent}/credentials`, { key: issuer, body: { name: "runtime" } });
    const results = await Promise.all([mint(), mint(), mint(), mint(), mint()]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 201, 409, 409]);
    const refused = results.find((r) => r.status === 409)!;
    expect(refused.res.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.body.type).toBe("urn:kakunin:problem:credential-limit");
    expect(refused.body.detail).toMatch(/at most 3/);
    // Another agent has its own allowance.
    const other = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { key: issuer, body: agentBody() })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${other}/credentials`, { key: issuer, body: { name: "runtime" } })).status).toBe(201);
    const first = results.find((r) => r.status === 201)!.body.data.id;
    expect((await o.json("POST", `/v1/agents/${agent}/credentials/${first}/revoke`, { key: issuer })).status).toBe(200);
    expect((await mint()).status).toBe(201);
  });

  it("API keys: the one past KAKUNIN_MAX_API_KEYS live keys in the tenant is 409 api-key-limit; a revoked one frees its place", async () => {
    // Live now: the admin key and the issuer key.
    const create = (name: string) => o.json<{ data: { id: string } } & Problem>("POST", "/v1/api-keys", { body: { name, role: "auditor" } });
    const results = await Promise.all([create("a"), create("b"), create("c"), create("d")]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 409, 409]);
    const refused = results.find((r) => r.status === 409)!;
    expect(refused.body.type).toBe("urn:kakunin:problem:api-key-limit");
    expect(refused.body.detail).toMatch(/at most 4/);
    const made = results.find((r) => r.status === 201)!.body.data.id;
    expect((await o.json("DELETE", `/v1/api-keys/${made}`)).status).toBe(200);
    expect((await create("e")).status).toBe(201);
  });
});
