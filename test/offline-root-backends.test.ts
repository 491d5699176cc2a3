import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "../origin/test/harness.ts";
import { OfflineRoot } from "../origin/test/offline-root-ops.ts";
import { opensslVerify } from "../origin/test/openssl.ts";
import { startKmsTestServer, type KmsTestServer } from "./support/kms-server.ts";
import { runParserMatrix } from "./support/parser-matrix.ts";
import { setupSoftHsm } from "./support/softhsm.ts";

// SoftHSM reads SOFTHSM2_CONF once per process: this file gets its own token.
const hsm = await setupSoftHsm({ tokenLabel: "kakunin-offline-root" });

/**
 * Offline-root mode on the real key backends: the issuing CA's key is created in the KMS (or the
 * HSM), the CSR is signed there, the root (openssl, key never given to Kakunin) signs the CSR,
 * the import activates it, and the resulting chain (offline root → imported issuing CA → agent,
 * plus the tree-head signer) parses and chain-verifies in all six parsers of the matrix.
 */
async function offlineRootFlow(o: TestOrigin, root: OfflineRoot, dir: string): Promise<void> {
  const csr = await o.json<{ data: { csr_pem: string } }>("POST", "/v1/tenant/ca/csr");
  expect(csr.status).toBe(201);
  const issuing = root.sign(csr.body.data.csr_pem);
  const imported = await o.json<{ data: { current: { subject: string } } }>("POST", "/v1/tenant/ca/import", { body: { certificate_pem: issuing } });
  expect(imported.status).toBe(201);
  const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
  const agent = await o.json<{ data: { certificate_pem: string } }>("POST", `/v1/agents/${id}/certify`);
  expect(agent.status).toBe(201);
  expect(opensslVerify(root.pem, agent.body.data.certificate_pem, issuing, ["-x509_strict"]).ok).toBe(true);
  // The tenant's tree-head signer is issued by the imported CA too.
  expect((await o.json("GET", "/v1/audit/tree-head")).status).toBe(200);
  const tenant = (await o.json<{ data: { id: string; name: string } }>("GET", "/v1/tenant")).body.data;
  const signer = await o.services.ca.auditSignerFor(tenant);
  if (!signer.ok) throw new Error(signer.error.message);
  mkdirSync(join(dir, "matrix"));
  const matrix = await runParserMatrix(join(dir, "matrix"), {
    root: root.pem,
    intermediates: [issuing],
    leaves: { agent: agent.body.data.certificate_pem, audit: signer.value.record.certificatePem },
  });
  console.log(`[offline root] parser matrix: ${matrix.map((r) => `${r.parser} ${r.ok ? "ok" : "FAIL"} (${r.ms} ms)`).join(", ")}`);
  expect(
    matrix
      .filter((r) => !r.ok)
      .map((r) => `--- ${r.parser}\n${r.output}`)
      .join("\n"),
  ).toBe("");
}

describe("offline root on the AWS-KMS-compatible test server", () => {
  let kms: KmsTestServer;
  let o: TestOrigin;
  let dir: string;
  let root: OfflineRoot;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-offline-kms-"));
    root = new OfflineRoot(dir);
    kms = await startKmsTestServer({ pregenerate: 4 });
    o = await startTestOrigin("pglite", {
      env: {
        KAKUNIN_ROOT_CERT_FILE: root.certFile,
        KAKUNIN_KEY_MANAGER: "aws-kms",
        KAKUNIN_KMS_ENDPOINT: kms.url,
        AWS_REGION: kms.region,
        AWS_ACCESS_KEY_ID: kms.accessKeyId,
        AWS_SECRET_ACCESS_KEY: kms.secretAccessKey,
        KAKUNIN_KMS_REQUEST_TIMEOUT_MS: "30000",
      },
    });
  });
  afterAll(async () => {
    await o?.close();
    await kms?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("CSR signed in the KMS, root signs offline, import, certify; the chain passes the parser matrix", async () => {
    await offlineRootFlow(o, root, dir);
    // The KMS never held a root key: only the issuing CA, the tree-head signer and the agent.
    expect(kms.stats.createKey).toBe(3);
  }, 300_000);
});

describe.skipIf(hsm === null)("offline root on a SoftHSM2 token", () => {
  let o: TestOrigin;
  let dir: string;
  let root: OfflineRoot;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-offline-hsm-"));
    root = new OfflineRoot(dir);
    o = await startTestOrigin("pglite", {
      env: {
        KAKUNIN_ROOT_CERT_FILE: root.certFile,
        KAKUNIN_KEY_MANAGER: "pkcs11",
        KAKUNIN_PKCS11_MODULE: hsm!.modulePath,
        KAKUNIN_PKCS11_TOKEN_LABEL: hsm!.tokenLabel,
        KAKUNIN_PKCS11_PIN: hsm!.pin,
      },
    });
  });
  afterAll(async () => {
    await o?.close();
    await hsm?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("CSR signed in the HSM, root signs offline, import, certify; the chain passes the parser matrix", async () => {
    await offlineRootFlow(o, root, dir);
  }, 300_000);
});
