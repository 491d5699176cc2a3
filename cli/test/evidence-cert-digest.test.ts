/**
 * Each certificate.issued entry signs the SHA-256 of the certificate it issued
 * (`certificate_sha256`), but until 2026-12-07 the verifier tied a bundle's certificate to its
 * signed issuance by serial number alone: another certificate under the same serial, signed by
 * the tenant's issuing CA with a validity of its own, stood in for it, and the validity check
 * judged every event against the substitute's dates. The certificate must now be the one the
 * signed entry names.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signCertificate } from "../../origin/src/ca/sign-certificate.ts";
import { x509 } from "../../origin/src/ca/x509.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { verifyStream } from "../src/verify/index.ts";
import { fetchRoot } from "./support/run.ts";

describe("a bundle's certificate is the one its signed issuance names", () => {
  let o: TestOrigin;
  let dir = "";
  let rootPem = "";
  let genuine = "";
  let tenantId = "";

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-cert-digest-"));
    o = await startTestOrigin("pglite");
    ({ rootPem } = await fetchRoot(o, dir));
    tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
    genuine = await (await o.request("GET", `/v1/agents/${agent}/evidence`)).text();
  }, 120_000);
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const verify = (text: string) =>
    verifyStream(
      (async function* () {
        yield text;
      })(),
      { rootPem },
    );

  it("the genuine bundle verifies", async () => {
    expect((await verify(genuine)).summary).toMatch(/^VERIFIED/);
  });

  it("another certificate under the same serial, by the same issuing CA, ten years longer, fails the header check", async () => {
    const doc = JSON.parse(genuine) as { data: { certificates: { certificate_pem: string; expires_at: string }[] } };
    const c = doc.data.certificates[0]!;
    const real = new x509.X509Certificate(c.certificate_pem);
    const [issuing] = await o.services.ca.issuersOf(tenantId);
    const forged = await signCertificate(o.services.keys, {
      serial: real.serialNumber.toLowerCase(),
      subject: real.subjectName,
      issuer: issuing!.cert.subjectName,
      subjectSpki: new Uint8Array(real.publicKey.rawData),
      issuerSpki: issuing!.spki,
      issuerCert: issuing!.cert,
      notBefore: real.notBefore,
      notAfter: new Date(real.notAfter.getTime() + 3650 * 86_400_000),
      extensions: [],
      signerRef: issuing!.record.keyRef,
    });
    if (!forged.ok) throw new Error("signing failed");
    c.certificate_pem = forged.value.toString("pem");
    c.expires_at = forged.value.notAfter.toISOString();
    const r = await verify(JSON.stringify(doc));
    expect(r.ok, r.summary).toBe(false);
    const header = r.checks.find((k) => k.id === "header")!;
    expect(header.status).toBe("fail");
    expect(JSON.stringify(header.failures)).toMatch(/certificates\[0\]\.certificate_pem/);
  });
});
