import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyIngestToken } from "@kakunin/shared";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

describe.each(dbKinds())("ingest tokens on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => { o = await startTestOrigin(kind); });
  afterAll(async () => { await o.close(); });

  it("mints a token bound to the agent and its active certificate, verifiable with the edge secret", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const none = await o.json<{ type: string }>("POST", `/v1/agents/${agent}/ingest-tokens`);
    expect(none.status).toBe(409);
    const cert = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const r = await o.json<{ data: { token: string; expires_at: string; serial_number: string } }>("POST", `/v1/agents/${agent}/ingest-tokens`, { body: { ttl_seconds: 600 } });
    expect(r.status).toBe(201);
    expect(r.body.data.serial_number).toBe(cert.serial_number);
    const v = await verifyIngestToken(o.services.edgeSecret, r.body.data.token);
    expect(v.ok && v.claims).toMatchObject({ agent_id: agent, serial: cert.serial_number });
    expect(Date.parse(r.body.data.expires_at) - Date.now()).toBeLessThanOrEqual(600_000);
    expect((await verifyIngestToken("another-secret-another-secret-xx", r.body.data.token)).ok).toBe(false);
    // A bare POST (no body) takes the default lifetime.
    expect((await o.json("POST", `/v1/agents/${agent}/ingest-tokens`)).status).toBe(201);
  });

  it("validates the lifetime (422) and refuses malformed JSON (400)", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    await o.json("POST", `/v1/agents/${agent}/certify`);
    for (const body of [{ ttl_seconds: 10 }, { ttl_seconds: 100_000 }, { ttl_seconds: "1h" }, { other: 1 }]) {
      expect((await o.json("POST", `/v1/agents/${agent}/ingest-tokens`, { body })).status, JSON.stringify(body)).toBe(422);
    }
    expect((await o.json("POST", `/v1/agents/${agent}/ingest-tokens`, { rawBody: "{", headers: { "content-type": "application/json" } })).status).toBe(400);
  });
});
