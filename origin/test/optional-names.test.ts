import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Cred {
  id: string;
  key: string;
  name: string;
  agent_id: string;
}
interface Key {
  id: string;
  key: string;
  name: string;
  role: string;
}

/**
 * The contract gives `POST /v1/agents/:id/credentials` no body (→ 201 `{data: {id, key, ...}}`,
 * "like POST /v1/api-keys"), and an API key is defined by its role. A name only labels either in
 * lists: without one, the credential and the key are still minted (a 422 "name required" broke
 * the contract's bare POST).
 */
describe("credentials and API keys without a name", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
  });
  afterAll(async () => {
    await o.close();
  });

  it("POST /v1/agents/:id/credentials with no body, an empty JSON body or {} mints a working credential", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
    const bare = await o.json<{ data: Cred }>("POST", `/v1/agents/${agent}/credentials`);
    expect(bare.status).toBe(201);
    expect(bare.body.data).toMatchObject({ agent_id: agent, name: "agent credential", key: expect.stringMatching(/^kka_/) });
    const emptyJson = await o.request("POST", `/v1/agents/${agent}/credentials`, { headers: { "content-type": "application/json" } });
    expect(emptyJson.status).toBe(201);
    expect((await o.json("POST", `/v1/agents/${agent}/credentials`, { body: {} })).status).toBe(201);
    // It works as the agent's credential.
    const signed = await o.json("POST", `/v1/agents/${agent}/sign`, { key: bare.body.data.key, body: { payload_b64: "aGVsbG8=" } });
    expect(signed.status).toBe(200);
    // A name is still taken, and anything else is still refused.
    expect((await o.json<{ data: Cred }>("POST", `/v1/agents/${agent}/credentials`, { body: { name: "runtime" } })).body.data.name).toBe("runtime");
    expect((await o.json("POST", `/v1/agents/${agent}/credentials`, { body: { nmae: "typo" } })).status).toBe(422);
  });

  it("POST /v1/api-keys with only a role mints a key named after it", async () => {
    const r = await o.json<{ data: Key }>("POST", "/v1/api-keys", { body: { role: "auditor" } });
    expect(r.status).toBe(201);
    expect(r.body.data).toMatchObject({ role: "auditor", name: "auditor key" });
    expect((await o.json("GET", "/v1/audit/tree-head", { key: r.body.data.key })).status).toBe(200);
    expect((await o.json("POST", "/v1/api-keys", { body: {} })).status).toBe(422);
  });
});
