/**
 * Retire, revoking an agent credential and revoking an API key take no body. A body was ignored
 * whatever it held: `{"reason": "left the bank"}` retired the agent for good with a 200 while the
 * reason was dropped (the audit entry has none), though every other route refuses a field it does
 * not know (certify `{"validity_days": 3650}` is a 422). A body with any field is now a 422 naming
 * it, and nothing changes; no body, an empty one or `{}` still works.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

let o: TestOrigin;
beforeAll(async () => {
  o = await startTestOrigin("pglite");
});
afterAll(async () => {
  await o.close();
});

const treeSize = async () => (await o.json<{ data: { tree_size: number } }>("GET", "/v1/audit/tree-head")).body.data.tree_size;

async function refused(method: string, path: string, body: unknown, field: string): Promise<void> {
  const r = await o.json<{ type: string; errors: { path: string; message: string }[] }>(method, path, { body });
  expect(r.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(422);
  expect(r.res.headers.get("content-type")).toContain("application/problem+json");
  expect(r.body.type).toBe("urn:kakunin:problem:validation-failed");
  expect(r.body.errors.map((e) => e.message).join(" ")).toContain(field);
}

describe("routes that take no body refuse one with fields", () => {
  it("retire with a reason is a 422 and the agent stays active, its certificate valid, nothing logged", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.id;
    const before = await treeSize();
    await refused("POST", `/v1/agents/${agent}/retire`, { reason: "left the bank" }, "reason");
    await refused("POST", `/v1/agents/${agent}/retire`, { reason: 5 }, "reason");
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/agents/${agent}`)).body.data.status).toBe("active");
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/certificates/${cert}`)).body.data.status).toBe("active");
    expect(await treeSize()).toBe(before);
    // Malformed JSON is a 400, as on every route.
    const bad = await o.json("POST", `/v1/agents/${agent}/retire`, { rawBody: "{", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    expect((await o.json("POST", `/v1/agents/${agent}/retire`, { body: {} })).status).toBe(200);
  });

  it("credential and API key revocation refuse a body with fields; no body and {} still revoke", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cred = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/credentials`, { body: { name: "r" } })).body.data.id;
    const key = (await o.json<{ data: { id: string } }>("POST", "/v1/api-keys", { body: { name: "k", role: "auditor" } })).body.data.id;
    const before = await treeSize();
    await refused("POST", `/v1/agents/${agent}/credentials/${cred}/revoke`, { reason: "leaked" }, "reason");
    await refused("DELETE", `/v1/api-keys/${key}`, { reason: "leaked" }, "reason");
    expect(await treeSize()).toBe(before);
    expect((await o.json("POST", `/v1/agents/${agent}/credentials/${cred}/revoke`, { body: {} })).status).toBe(200);
    expect((await o.json("DELETE", `/v1/api-keys/${key}`)).status).toBe(200);
  });
});
