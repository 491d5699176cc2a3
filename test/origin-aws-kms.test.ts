import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "../origin/test/harness.ts";
import { opensslVerify, splitPem } from "../origin/test/openssl.ts";
import { startKmsTestServer, type KmsTestServer } from "./support/kms-server.ts";

interface Issued { id: string; serial_number: string; certificate_pem: string; kms_key_arn: string }

/**
 * The whole origin on the aws-kms backend: the real @aws-sdk/client-kms talks SigV4 over HTTP to
 * the KMS-compatible test server, which holds every private key (CA and agents).
 */
describe.each(dbKinds())("origin with KAKUNIN_KEY_MANAGER=aws-kms on %s", (kind) => {
  let kms: KmsTestServer;
  let o: TestOrigin;
  beforeAll(async () => {
    kms = await startKmsTestServer();
    o = await startTestOrigin(kind, {
      env: {
        KAKUNIN_KEY_MANAGER: "aws-kms",
        KAKUNIN_KMS_ENDPOINT: kms.url,
        AWS_REGION: kms.region,
        AWS_ACCESS_KEY_ID: kms.accessKeyId,
        AWS_SECRET_ACCESS_KEY: kms.secretAccessKey,
      },
    });
  });
  afterAll(async () => {
    await o?.close();
    await kms?.close();
  });

  it("certifies with a real KMS ARN, one Sign per issuance, and the chain verifies", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    await o.json("GET", "/v1/ca"); // CA keys created and signed before we count
    const before = { sign: kms.stats.sign, createKey: kms.stats.createKey };
    const r = await o.json<{ data: Issued }>("POST", `/v1/agents/${agent}/certify`);
    expect(r.status).toBe(201);
    expect(r.body.data.kms_key_arn).toMatch(/^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/);
    expect(kms.stats.sign - before.sign).toBe(1);
    expect(kms.stats.createKey - before.createKey).toBe(1);
    const [issuing, root] = splitPem((await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem);
    const v = opensslVerify(root!, r.body.data.certificate_pem, issuing);
    expect(v.output).toContain(": OK");
  });

  it("sign goes through KMS with the agent's key", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    await o.json("POST", `/v1/agents/${agent}/certify`);
    const before = kms.stats.sign;
    const r = await o.json<{ data: { signature_b64: string; kms_key_arn: string } }>("POST", `/v1/agents/${agent}/sign`, { body: { payload_b64: "aGVsbG8=" } });
    expect(r.status).toBe(200);
    expect(kms.stats.sign - before).toBe(1);
    expect(Buffer.from(r.body.data.signature_b64, "base64")).toHaveLength(256);
  });

  it("KMS down → certify and sign answer 503 problem, nothing is stored, and it recovers when KMS is back", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const certified = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    await o.json("POST", `/v1/agents/${certified}/certify`);
    kms.setOutage(true);
    try {
      const r = await o.json<{ type: string; detail: string }>("POST", `/v1/agents/${agent}/certify`);
      expect(r.status).toBe(503);
      expect(r.body.type).toBe("urn:kakunin:problem:kms-unavailable");
      expect(r.body.detail).not.toMatch(/127\.0\.0\.1|stack|Exception/);
      const s = await o.json<{ type: string }>("POST", `/v1/agents/${certified}/sign`, { body: { payload_b64: "aGk=" } });
      expect(s.status).toBe(503);
      expect((await o.json<{ data: unknown[] }>("GET", `/v1/agents/${agent}/certificates`)).body.data).toEqual([]);
    } finally {
      kms.setOutage(false);
    }
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
  });
});

describe("origin with aws-kms selected but not configured", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite", { env: { KAKUNIN_KEY_MANAGER: "aws-kms" } });
  });
  afterAll(async () => { await o?.close(); });

  it("still starts and serves what needs no key; certify answers 503 kms-not-configured", async () => {
    const h = await o.json<{ status: string; key_manager: string }>("GET", "/healthz", { key: null });
    expect(h.status).toBe(200);
    expect(h.body.key_manager).toBe("aws-kms");
    const agent = await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() });
    expect(agent.status).toBe(201);
    const r = await o.json<{ type: string; status: number; detail: string }>("POST", `/v1/agents/${agent.body.data.id}/certify`);
    expect(r.status).toBe(503);
    expect(r.res.headers.get("content-type")).toBe("application/problem+json");
    expect(r.body.type).toBe("urn:kakunin:problem:kms-not-configured");
    expect((await o.json<{ data: unknown[] }>("GET", `/v1/agents/${agent.body.data.id}/certificates`)).body.data).toEqual([]);
    expect((await o.json("GET", "/v1/ca")).status).toBe(503);
  });
});
