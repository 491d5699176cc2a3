import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyManagerSigners } from "../src/publish/signers.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";
import { OfflineRoot, openssl } from "./offline-root-ops.ts";
import { opensslText, opensslVerify, splitPem } from "./openssl.ts";

interface CaRequest {
  id: string;
  status: string;
  generation: number;
  csr_pem: string;
}
interface Authority {
  serial_number: string;
  subject: string;
  certificate_pem: string;
  not_after: string;
}
interface Problem {
  type: string;
  detail: string;
}

/**
 * Offline-root mode (docs/ca-lifecycle.md) with the local KeyManager; the KMS test server and
 * SoftHSM run the same flow in test/offline-root-backends.test.ts. The root's key exists only in
 * the test's "offline machine" directory: Kakunin gets root.pem and nothing else.
 */
describe.each(dbKinds())("offline root on %s", (kind) => {
  let o: TestOrigin;
  let dir: string;
  let root: OfflineRoot;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-offline-root-"));
    root = new OfflineRoot(dir);
    o = await startTestOrigin(kind, { env: { KAKUNIN_ROOT_CERT_FILE: root.certFile, KAKUNIN_LOCAL_KEY_POOL: "0" } });
  });
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const csr = () => o.json<{ data: CaRequest }>("POST", "/v1/tenant/ca/csr");
  const importCa = (pem: string) =>
    o.json<{ data: { current: Authority; previous: Authority | null } } & Problem>("POST", "/v1/tenant/ca/import", { body: { certificate_pem: pem } });
  const certify = async () => {
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    return o.json<{ data: { id: string; certificate_pem: string } } & Problem>("POST", `/v1/agents/${id}/certify`);
  };
  const file = (n: string, content: string) => {
    writeFileSync(join(dir, n), content);
    return join(dir, n);
  };

  it("signs nothing before an issuing CA is imported: 503 ca-not-ready, and no online rollover", async () => {
    const ca = await o.json<Problem>("GET", "/v1/ca");
    expect(ca.status).toBe(503);
    expect(ca.body.type).toBe("urn:kakunin:problem:ca-not-ready");
    expect(ca.body.detail).toContain("kakunin ca csr");
    const c = await certify();
    expect(c.status).toBe(503);
    expect(c.body.type).toBe("urn:kakunin:problem:ca-not-ready");
    expect((await o.json("POST", "/v1/tenant/ca/rollover")).status).toBe(409);
    expect((await importCa(root.pem)).status).toBe(409); // no pending request yet
    // Nothing to sign is not a KMS failure: the publisher's guard must not trip (null would).
    const tenant = (await o.json<{ data: { id: string; name: string } }>("GET", "/v1/tenant")).body.data;
    expect(await keyManagerSigners(o.services).crl(tenant)).toEqual([]);
  });

  it("CSR: signed by the new KMS key, the issuing profile requested; asking again returns the same request", async () => {
    const a = await csr();
    expect(a.status).toBe(201);
    expect(a.body.data).toMatchObject({ status: "pending", generation: 1 });
    const text = openssl(["req", "-in", file("g1.csr", a.body.data.csr_pem), "-noout", "-verify", "-text"]);
    expect(text.out).toMatch(/verify OK|Certificate request self-signature verify OK/);
    expect(text.out).toContain("CN = Kakunin Issuing CA default");
    expect(text.out).toMatch(/CA:TRUE, pathlen:0/);
    const again = await csr();
    expect(again.status).toBe(200);
    expect(again.body.data.id).toBe(a.body.data.id);
    expect(again.body.data.csr_pem).toBe(a.body.data.csr_pem);
  });

  it("refuses certificates that break a rule, each with a 422 naming it; nothing becomes active", async () => {
    const { csr_pem } = (await csr()).body.data;
    const refused = async (pem: string, rule: RegExp) => {
      const r = await importCa(pem);
      expect(r.status, rule.source).toBe(422);
      expect(r.body.type).toBe("urn:kakunin:problem:invalid-ca-certificate");
      expect(r.body.detail).toMatch(rule);
    };
    // Another root with the very same name: only the signature tells them apart.
    const impostor = new OfflineRoot(dir, "impostor", "/O=Kakunin Offline Test/CN=Offline Root CA");
    await refused(impostor.sign(csr_pem), /signature/);
    // Not the pending request's key.
    openssl(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "other.key"), "-subj", "/CN=other", "-out", join(dir, "other.csr")]);
    const otherCsr = openssl(["req", "-in", join(dir, "other.csr")]).out;
    await refused(
      root.sign(otherCsr, {
        copyExtensions: false,
        extfile: "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature",
      }),
      /key of the pending request/,
    );
    // Without the requested extensions: no pathlen, then no tenant, then a leaf.
    await refused(
      root.sign(csr_pem, { copyExtensions: false, extfile: "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature" }),
      /pathlen must be 0/,
    );
    await refused(
      root.sign(csr_pem, { copyExtensions: false, extfile: "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign" }),
      /keyUsage/,
    );
    await refused(
      root.sign(csr_pem, {
        copyExtensions: false,
        extfile: "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature",
      }),
      /tenant extension/,
    );
    await refused(root.sign(csr_pem, { copyExtensions: false, extfile: "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature" }), /CA:TRUE/);
    // Past the root's notAfter (root: 20 years).
    await refused(root.sign(csr_pem, { days: 9000 }), /inside the root's validity/);
    expect((await importCa("not a certificate")).status).toBe(422);
    expect((await o.json("GET", "/v1/ca")).status).toBe(503);
  });

  it("imports the certificate the root signed offline; agents chain to the offline root; importing it again changes nothing", async () => {
    const { csr_pem } = (await csr()).body.data;
    const issuing = root.sign(csr_pem);
    const r = await importCa(issuing);
    expect(r.status).toBe(201);
    expect(r.body.data.previous).toBeNull();
    expect(r.body.data.current.subject).toContain("Kakunin Issuing CA default");
    expect((await importCa(issuing)).status).toBe(200);
    const chain = splitPem((await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem);
    expect(chain[1]!.trim()).toBe(root.pem.trim());
    const agent = await certify();
    expect(agent.status).toBe(201);
    expect(opensslVerify(root.pem, agent.body.data.certificate_pem, chain[0], ["-x509_strict"]).ok).toBe(true);
    expect(opensslVerify(root.pem, chain[0]!, undefined, ["-x509_strict"]).ok).toBe(true);
    // A new request now asks for generation 2.
    const next = await csr();
    expect(next.status).toBe(201);
    expect(next.body.data.generation).toBe(2);
  });

  it("rollover offline: the pending key survives tidy; the new CA signs, the old one keeps its certificates verifiable", async () => {
    const before = await certify();
    const [oldIssuing] = splitPem((await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem);
    const { csr_pem } = (await csr()).body.data;
    // A pending request's key is referenced by the request: tidy never takes it for an orphan.
    const t = await o.json<{ data: { orphan_keys: number } }>("POST", "/v1/admin/tidy", { body: { safety_buffer_seconds: 0 } });
    expect(t.status).toBe(200);
    const r = await importCa(root.sign(csr_pem));
    expect(r.status).toBe(201);
    expect(r.body.data.previous?.certificate_pem).toBe(oldIssuing);
    expect(r.body.data.current.subject).toMatch(/ G2$/);
    const after = await certify();
    expect(after.status).toBe(201);
    const newIssuing = r.body.data.current.certificate_pem;
    expect(opensslVerify(root.pem, before.body.data.certificate_pem, oldIssuing).ok).toBe(true);
    expect(opensslVerify(root.pem, after.body.data.certificate_pem, newIssuing).ok).toBe(true);
    expect(opensslVerify(root.pem, after.body.data.certificate_pem, oldIssuing).ok).toBe(false);
    // Both CAs sign their own CRLs (online: issuing keys are in the KeyManager).
    const tenant = (await o.json<{ data: { id: string; name: string } }>("GET", "/v1/tenant")).body.data;
    const crls = await keyManagerSigners(o.services).crl(tenant);
    // One issuer CRL per CA (plus, since CRLs are partitioned, one per partition with live certificates).
    expect(crls?.filter((c) => c.partition === undefined).map((c) => c.active)).toEqual([true, false]);
    expect(new Set(crls?.map((c) => c.issuerSerial)).size).toBe(2);
  });

  it("the root's CRL is signed offline and uploaded: checked, newest wins, forwarded as /v1/crl/root", async () => {
    const signers = keyManagerSigners(o.services);
    expect(await signers.arl()).toBeNull(); // nothing uploaded yet: the origin cannot sign one
    const arl = root.crl();
    const up = await o.json<{ data: { crl_number: string; next_update: string } }>("POST", "/v1/admin/ca/root/crl", { body: { crl: arl } });
    expect(up.status).toBe(201);
    expect(up.body.data.crl_number).toBe(String(0x1000));
    expect((await o.json("POST", "/v1/admin/ca/root/crl", { body: { crl: arl } })).status).toBe(200);
    const published = await signers.arl();
    const der = openssl(["crl", "-in", file("arl.pem", arl), "-outform", "DER", "-out", join(dir, "arl.der")]);
    expect(der.ok).toBe(true);
    expect(Buffer.from(published!.der).equals(Buffer.from(openssl(["base64", "-in", join(dir, "arl.der")]).out.replace(/\s+/g, ""), "base64"))).toBe(true);
    // An ARL that revokes the first issuing CA (CRL number 1001) replaces it; the older one cannot come back.
    const [, rootPem] = splitPem((await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem);
    expect(rootPem!.trim()).toBe(root.pem.trim());
    const newer = root.crl({ revoke: root.sign((await csr()).body.data.csr_pem) });
    expect((await o.json("POST", "/v1/admin/ca/root/crl", { body: { crl: newer } })).status).toBe(201);
    const stale = await o.json<Problem>("POST", "/v1/admin/ca/root/crl", { body: { crl: arl } });
    expect(stale.status).toBe(409);
    // Signed by another key, and garbage.
    const impostor = new OfflineRoot(dir, "impostor2", "/O=Kakunin Offline Test/CN=Offline Root CA");
    const bad = await o.json<Problem>("POST", "/v1/admin/ca/root/crl", { body: { crl: impostor.crl() } });
    expect(bad.status).toBe(422);
    expect(bad.body.type).toBe("urn:kakunin:problem:invalid-crl");
    expect((await o.json("POST", "/v1/admin/ca/root/crl", { body: { crl: "bm90IGEgY3Js" } })).status).toBe(422);
    expect((await o.json("POST", "/v1/admin/ca/root/crl", { body: {} })).status).toBe(422);
  });

  it("an issuing CA whose SKI is not RFC 5280 method 1: agent and audit certificates name that SKI as AKI and chain in openssl", async () => {
    const { csr_pem } = (await csr()).body.data;
    // RFC 5280 §4.2.1.2 allows other key-identifier methods (RFC 7093 truncated SHA-256, HSM tools,
    // a fixed value); relying parties match the leaf's AKI against the CA's SKI as written.
    const ski = "0a".repeat(20);
    const issuing = root.sign(csr_pem, { extfile: `subjectKeyIdentifier=${ski}\nauthorityKeyIdentifier=keyid` });
    const r = await importCa(issuing);
    expect(r.status).toBe(201);
    const agent = await certify();
    expect(agent.status).toBe(201);
    const head = await o.json<{ data: { signer_certificate_pem: string } }>("GET", "/v1/audit/tree-head");
    expect(head.status).toBe(200);
    for (const pem of [agent.body.data.certificate_pem, head.body.data.signer_certificate_pem]) {
      expect(opensslText(pem).replace(/\s+/g, "")).toContain(`AuthorityKeyIdentifier:${ski.match(/../g)!.join(":").toUpperCase()}`);
      const v = opensslVerify(root.pem, pem, issuing, ["-x509_strict"]);
      expect(v.output).toMatch(/OK/);
      expect(v.ok).toBe(true);
    }
  });
});
