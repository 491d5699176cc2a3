import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "../origin/test/harness.ts";
import { opensslVerify, splitPem } from "../origin/test/openssl.ts";
import { setupSoftHsm } from "./support/softhsm.ts";

// SoftHSM reads SOFTHSM2_CONF once per process: this file gets its own token.
const hsm = await setupSoftHsm({ tokenLabel: "kakunin-origin" });

/** The whole origin on the pkcs11 backend: CA and agent keys are generated on a SoftHSM2 token. */
describe.skipIf(hsm === null).each(dbKinds())("origin with KAKUNIN_KEY_MANAGER=pkcs11 on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind, {
      env: {
        KAKUNIN_KEY_MANAGER: "pkcs11",
        KAKUNIN_PKCS11_MODULE: hsm!.modulePath,
        KAKUNIN_PKCS11_TOKEN_LABEL: hsm!.tokenLabel,
        KAKUNIN_PKCS11_PIN: hsm!.pin,
      },
    });
  });
  afterAll(async () => { await o?.close(); });

  it("certifies with a pkcs11: key URI and the chain verifies with openssl -x509_strict", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const r = await o.json<{ data: { certificate_pem: string; kms_key_arn: string } }>("POST", `/v1/agents/${agent}/certify`);
    expect(r.status).toBe(201);
    expect(r.body.data.kms_key_arn).toMatch(/^pkcs11:token=kakunin-origin;id=(%[0-9a-f]{2})+;object=/);
    const [issuing, root] = splitPem((await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem);
    expect(opensslVerify(root!, r.body.data.certificate_pem, issuing).output).toContain(": OK");
  });

  it("30 concurrent certify + sign requests all succeed (session pool, no CKR_OPERATION_ACTIVE)", async () => {
    const ids = await Promise.all(Array.from({ length: 30 }, async () =>
      (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id));
    const certs = await Promise.all(ids.map((id) => o.json("POST", `/v1/agents/${id}/certify`)));
    expect(certs.map((c) => c.status)).toEqual(ids.map(() => 201));
    const sigs = await Promise.all(ids.flatMap((id) => [1, 2, 3].map(() => o.json("POST", `/v1/agents/${id}/sign`, { body: { payload_b64: "aGk=" } }))));
    expect(sigs.every((s) => s.status === 200)).toBe(true);
  });
});

describe.skipIf(hsm === null)("origin with pkcs11 and a wrong PIN", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite", {
      env: { KAKUNIN_KEY_MANAGER: "pkcs11", KAKUNIN_PKCS11_MODULE: hsm!.modulePath, KAKUNIN_PKCS11_TOKEN_LABEL: "no-such-token", KAKUNIN_PKCS11_PIN: "0000" },
    });
  });
  afterAll(async () => { await o?.close(); await hsm?.cleanup(); });

  it("certify answers 503 kms-not-configured", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const r = await o.json<{ type: string }>("POST", `/v1/agents/${agent}/certify`);
    expect(r.status).toBe(503);
    expect(r.body.type).toBe("urn:kakunin:problem:kms-not-configured");
  });
});
