/**
 * With an offline root (docs/ca-lifecycle.md) the pinned root is the operator's, and an
 * enterprise root signs more than Kakunin's issuing CAs: servers' certificates, other
 * intermediates. Until 2026-12-07 the verifier took any certificate the root signed as the
 * bundle's issuing CA (or an earlier one), CA or not, when it carried no tenant binding (the
 * allowance for issuing CAs created before the binding existed). Whoever held the key of any such
 * certificate could certify an "audit certificate" bound to any tenant, sign tree heads with it,
 * and every bundle they wrote verified; as an earlier issuing CA it certified agent certificates
 * under the agent's real serials with whatever validity it liked. An issuing CA must now be a CA,
 * and one without the tenant binding must be a Kakunin issuing CA of the bundle's tenant
 * (O=<tenant>, CN=Kakunin Issuing CA <tenant>), the only unbound CAs Kakunin ever made.
 */
import { webcrypto } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kakuninOids, treeHeadMessage } from "@kakunin/shared";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { OfflineRoot, openssl } from "../../origin/test/offline-root-ops.ts";
import { verifyStream } from "../src/verify/index.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const oids = kakuninOids();
const pemBody = (pem: string) => Buffer.from(pem.replace(/-----[A-Z ]+-----|\s/g, ""), "base64");

interface Bundle {
  tenant: { id: string; name: string };
  ca_chain_pem: string;
  earlier_issuers_pem?: string;
  certificates: { serial_number: string; certificate_pem: string; expires_at: string }[];
  tree_head: {
    tenant_id: string;
    tree_size: number;
    root_hash: string;
    timestamp: string;
    signature: string;
    signer_serial: string;
    signer_certificate_pem: string;
  };
}

describe("a certificate the pinned root signed for something else is not an issuing CA", () => {
  let o: TestOrigin;
  let dir = "";
  let root: OfflineRoot;
  let genuine = "";

  /** A key the attacker holds and the certificate the enterprise root signed for it. */
  const rootSigned = async (name: string, subject: string, ext: string) => {
    const key = join(dir, `${name}.key`);
    openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-subj", subject, "-out", join(dir, `${name}.csr`)]);
    const pem = root.sign(readFileSync(join(dir, `${name}.csr`), "utf8"), { copyExtensions: false, extfile: ext });
    const signingKey = await webcrypto.subtle.importKey("pkcs8", pemBody(readFileSync(key, "utf8")), alg, false, ["sign"]);
    return { pem, cert: new x509.X509Certificate(pem), signingKey };
  };

  /** The genuine bundle with its tree head re-signed (and dated a day later) by an audit certificate `issuer` certified. */
  const resigned = async (issuer: Awaited<ReturnType<typeof rootSigned>>, place: "issuing" | "earlier") => {
    const doc = JSON.parse(genuine) as { data: Bundle };
    const b = doc.data;
    const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const tenantDer = Buffer.concat([Buffer.from([0x0c, b.tenant.id.length]), Buffer.from(b.tenant.id)]);
    const audit = await x509.X509CertificateGenerator.create({
      serialNumber: "4a11ce5e",
      subject: `O=${b.tenant.name}, CN=Kakunin Audit Log ${b.tenant.name}`,
      issuer: issuer.cert.subject,
      notBefore: new Date(Date.now() - 86_400_000),
      notAfter: new Date(Date.now() + 10 * 86_400_000),
      publicKey: keys.publicKey,
      signingKey: issuer.signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.ExtendedKeyUsageExtension([oids.ekuAuditTreeHeadSigning], false),
        new x509.Extension(oids.tenantExtension, false, tenantDer),
      ],
    });
    const [issuingPem, rootPem] = b.ca_chain_pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)!;
    if (place === "issuing") {
      // The attacker's certificate as the issuing CA; the real one as an "earlier" issuing CA, so the agent's certificates still chain.
      b.ca_chain_pem = `${issuer.pem.trim()}\n${rootPem}`;
      b.earlier_issuers_pem = issuingPem;
      b.tenant.name = issuer.cert.subjectName.getField("O")[0] ?? b.tenant.name;
    } else {
      b.earlier_issuers_pem = issuer.pem;
    }
    const body = {
      tenant_id: b.tree_head.tenant_id,
      tree_size: b.tree_head.tree_size,
      root_hash: b.tree_head.root_hash,
      timestamp: new Date(Date.parse(b.tree_head.timestamp) + 86_400_000).toISOString(),
    };
    const sig = await webcrypto.subtle.sign(alg, keys.privateKey, new TextEncoder().encode(treeHeadMessage(body)));
    Object.assign(b.tree_head, body, {
      signature: Buffer.from(sig).toString("base64"),
      signer_serial: audit.serialNumber,
      signer_certificate_pem: audit.toString("pem"),
    });
    if (place === "earlier") {
      // An earlier issuing CA signs no tree head; here it certifies the agent's serial with a validity of its choosing.
      const agentKeys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
      const c = b.certificates[0]!;
      const real = new x509.X509Certificate(c.certificate_pem);
      const forged = await x509.X509CertificateGenerator.create({
        serialNumber: real.serialNumber,
        subject: real.subject,
        issuer: issuer.cert.subject,
        notBefore: real.notBefore,
        notAfter: new Date(real.notAfter.getTime() + 3650 * 86_400_000),
        publicKey: agentKeys.publicKey,
        signingKey: issuer.signingKey,
        extensions: [new x509.BasicConstraintsExtension(false, undefined, true)],
      });
      c.certificate_pem = forged.toString("pem");
      c.expires_at = forged.notAfter.toISOString();
      // Keep the genuine tree head: only the agent certificate is forged in this case.
      Object.assign(b.tree_head, (JSON.parse(genuine) as { data: Bundle }).data.tree_head);
    }
    // Members in the format's order: earlier_issuers_pem right after ca_chain_pem, before the entries.
    const { earlier_issuers_pem, ...rest } = b;
    const ordered = Object.fromEntries(
      Object.entries(rest).flatMap(([k, v]) =>
        k === "ca_chain_pem"
          ? [
              [k, v],
              ["earlier_issuers_pem", earlier_issuers_pem],
            ]
          : [[k, v]],
      ),
    );
    return JSON.stringify({ data: ordered });
  };
  const verify = (text: string) =>
    verifyStream(
      (async function* () {
        yield text;
      })(),
      { rootPem: root.pem },
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-foreign-issuer-"));
    root = new OfflineRoot(dir);
    o = await startTestOrigin("pglite", { env: { KAKUNIN_ROOT_CERT_FILE: root.certFile, KAKUNIN_LOCAL_KEY_POOL: "0" } });
    const csr = (await o.json<{ data: { csr_pem: string } }>("POST", "/v1/tenant/ca/csr")).body.data.csr_pem;
    expect((await o.json("POST", "/v1/tenant/ca/import", { body: { certificate_pem: root.sign(csr) } })).status).toBe(201);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
    genuine = await (await o.request("GET", `/v1/agents/${agent}/evidence`)).text();
  }, 120_000);
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the genuine bundle verifies against the offline root", async () => {
    expect((await verify(genuine)).summary).toMatch(/^VERIFIED/);
  });

  it("a server certificate the root signed cannot certify a tree-head signer", async () => {
    const server = await rootSigned(
      "server",
      "/O=Example Bank/CN=payments.bank.example",
      "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment",
    );
    const r = await verify(await resigned(server, "issuing"));
    expect(r.ok, r.summary).toBe(false);
    const chain = r.checks.find((c) => c.id === "chain")!;
    expect(chain.status).toBe("fail");
    expect(JSON.stringify(chain.failures)).toMatch(/issuing CA[\s\S]*not a CA certificate/);
  });

  it("another intermediate of the root, without Kakunin's tenant binding, cannot either", async () => {
    const other = await rootSigned(
      "other-ca",
      "/O=Example Bank/CN=Example Bank Payments CA",
      "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    );
    const r = await verify(await resigned(other, "issuing"));
    expect(r.ok, r.summary).toBe(false);
    expect(JSON.stringify(r.checks.find((c) => c.id === "chain")!.failures)).toMatch(/issuing CA[\s\S]*not a Kakunin issuing CA/);
  });

  it("nor, as an earlier issuing CA, certify the agent's serial with a validity of its own", async () => {
    const other = await rootSigned(
      "other-ca-2",
      "/O=Example Bank/CN=Example Bank Cards CA",
      "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    );
    const r = await verify(await resigned(other, "earlier"));
    expect(r.ok, r.summary).toBe(false);
    expect(JSON.stringify(r.checks.find((c) => c.id === "chain")!.failures)).toMatch(/earlier issuing CA 1[\s\S]*not a Kakunin issuing CA/);
  });
});
