import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * A retired agent is final: certify, renew, PATCH and credentials answer 422 `agent-retired`. Minting
 * its ingest token answered 409 `no-active-certificate` with "certify it first", advice that leads
 * straight to another refusal (certify is 422 for a retired agent). It is now the same 422 as the
 * other routes; a suspended agent (revoked, not retired) still gets the 409, where certifying is the way out.
 */
describe("POST /v1/agents/:id/ingest-tokens for a retired agent", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
  });
  afterAll(async () => {
    await o.close();
  });

  const certified = async (): Promise<{ agent: string; cert: string }> => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.id;
    return { agent, cert };
  };

  it("retired: 422 agent-retired, as certify answers", async () => {
    const { agent } = await certified();
    expect((await o.json("POST", `/v1/agents/${agent}/retire`)).status).toBe(200);
    const certify = await o.json<{ type: string }>("POST", `/v1/agents/${agent}/certify`);
    expect(certify.status).toBe(422);
    const r = await o.json<{ type: string; detail: string }>("POST", `/v1/agents/${agent}/ingest-tokens`);
    expect(r.status).toBe(422);
    expect(r.res.headers.get("content-type")).toBe("application/problem+json");
    expect(r.body.type).toBe(certify.body.type);
    expect(r.body.detail).not.toMatch(/certify/);
  });

  it("suspended (certificate revoked): still 409 no-active-certificate", async () => {
    const { agent, cert } = await certified();
    expect((await o.json("POST", `/v1/certificates/${cert}/revoke`, { body: { reason: "test" } })).status).toBe(200);
    const r = await o.json<{ type: string }>("POST", `/v1/agents/${agent}/ingest-tokens`);
    expect(r.status).toBe(409);
    expect(r.body.type).toBe("urn:kakunin:problem:no-active-certificate");
  });
});
