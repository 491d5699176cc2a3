import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * Routes whose JSON body is optional (certify, renew, ingest tokens, tidy) take "no body" in every
 * form a client sends it: no content-type, and `content-type: application/json` with an empty (or
 * whitespace) body, which curl, fetch wrappers and most SDKs send by default. A body that is there
 * is still validated: malformed JSON is 400 malformed-json, a wrong field 422.
 */
describe("optional JSON bodies", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
  });
  afterAll(async () => {
    await o.close();
  });
  const json = { "content-type": "application/json" };
  const newAgent = async () => (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;

  it("content-type json with an empty body is no body: certify, renew, ingest tokens, tidy", async () => {
    const id = await newAgent();
    const certify = await o.json("POST", `/v1/agents/${id}/certify`, { rawBody: "", headers: json });
    expect(certify.status, JSON.stringify(certify.body)).toBe(201);
    const renew = await o.json("POST", `/v1/agents/${id}/certificates/renew`, { rawBody: " \n", headers: json });
    expect(renew.status, JSON.stringify(renew.body)).toBe(201);
    const token = await o.json("POST", `/v1/agents/${id}/ingest-tokens`, { rawBody: "", headers: json });
    expect(token.status, JSON.stringify(token.body)).toBe(201);
    const tidy = await o.json("POST", "/v1/admin/tidy", { rawBody: "", headers: json });
    expect(tidy.status, JSON.stringify(tidy.body)).toBe(200);
  });

  it("a body that is there is still checked: malformed 400, unknown field 422", async () => {
    const id = await newAgent();
    const bad = await o.json<{ type: string }>("POST", `/v1/agents/${id}/certify`, { rawBody: "{", headers: json });
    expect(bad.status).toBe(400);
    expect(bad.body.type).toBe("urn:kakunin:problem:malformed-json");
    const unknown = await o.json<{ type: string }>("POST", `/v1/agents/${id}/certify`, { body: { nope: 1 } });
    expect(unknown.status).toBe(422);
    const none = await o.json("POST", `/v1/agents/${id}/certify`);
    expect(none.status).toBe(201);
  });
});
