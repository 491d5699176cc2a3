import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodeOcspGetPath, OCSP_MALFORMED_REQUEST, OCSP_UNAUTHORIZED, parseOcspRequest, type CrlReason,
} from "@kakunin/shared";
import type { LoadedAuthority } from "../src/ca/authority.ts";
import { buildCrl } from "../src/ca/crl.ts";
import { buildOcspResponses, issuerHashes, type OcspResponses } from "../src/ca/ocsp.ts";
import { x509 } from "../src/ca/x509.ts";
import { keyManagerSigners } from "../src/publish/signers.ts";
import type { KeyManager } from "../src/kms/types.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

const HOUR = 3_600_000;
interface Issued { id: string; serial_number: string; certificate_pem: string }

/** openssl, asynchronously: the OCSP responder under test lives in this process's event loop. */
function openssl(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile("openssl", args, { cwd, encoding: "utf8" }, (e, stdout, stderr) => {
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

const skiOf = (ca: LoadedAuthority) => ca.cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;

/** Wraps a KeyManager to count sign calls: each CRL and each OCSP response must cost exactly one. */
function countingKeys(inner: KeyManager): { keys: KeyManager; signs: () => number } {
  let n = 0;
  const keys: KeyManager = {
    kind: inner.kind,
    createKey: (label, opts) => inner.createKey(label, opts),
    scheduleDeletion: (ref, opts) => inner.scheduleDeletion(ref, opts),
    listKeys: () => inner.listKeys(),
    getPublicKey: (ref) => inner.getPublicKey(ref),
    sign: (ref, data) => { n += 1; return inner.sign(ref, data); },
    close: () => inner.close(),
  };
  return { keys, signs: () => n };
}

describe("CRL and pre-signed OCSP, checked by the system openssl", () => {
  let o: TestOrigin;
  let dir: string;
  let issuing: LoadedAuthority;
  let good: Issued;
  let revoked: Issued & { revoked_at: string };
  let unknown: Issued;
  let counter: ReturnType<typeof countingKeys>;
  let tenantRef: { id: string; name: string };
  const file = (name: string) => join(dir, name);

  beforeAll(async () => {
    o = await startTestOrigin("pglite");
    dir = mkdtempSync(join(tmpdir(), "kakunin-crl-ocsp-"));
    const tenant = (await o.json<{ data: { id: string; name: string } }>("GET", "/v1/tenant")).body.data;
    const certify = async (name: string) => {
      const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name }) })).body.data.id;
      return (await o.json<{ data: Issued }>("POST", `/v1/agents/${id}/certify`)).body.data;
    };
    good = await certify("good-bot");
    unknown = await certify("unknown-bot");
    const bad = await certify("bad-bot");
    const r = await o.json<{ data: { revoked_at: string } }>("POST", `/v1/certificates/${bad.id}/revoke`, { body: { reason: "key leaked", reason_code: "keyCompromise" } });
    expect(r.status).toBe(200);
    revoked = { ...bad, revoked_at: r.body.data.revoked_at };
    tenantRef = tenant;
    const ca = await o.services.ca.issuingFor(tenant);
    const root = await o.services.ca.root();
    if (!ca.ok || !root.ok) throw new Error("no CA");
    issuing = ca.value;
    counter = countingKeys(o.services.keys);
    writeFileSync(file("root.pem"), root.value.record.certificatePem);
    writeFileSync(file("issuing.pem"), issuing.record.certificatePem);
    writeFileSync(file("chain.pem"), issuing.record.certificatePem + root.value.record.certificatePem);
    writeFileSync(file("good.pem"), good.certificate_pem);
    writeFileSync(file("revoked.pem"), revoked.certificate_pem);
    writeFileSync(file("unknown.pem"), unknown.certificate_pem);
  });
  afterAll(async () => {
    await o.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe("CRL", () => {
    const crl = async (entries: { serial: string; revokedAt: Date; reasonCode: CrlReason }[], crlNumber: bigint) => {
      const before = counter.signs();
      const now = new Date();
      const der = await buildCrl(counter.keys, issuing, { crlNumber, thisUpdate: now, nextUpdate: new Date(now.getTime() + 24 * HOUR), revoked: entries });
      if (!der.ok) throw new Error(der.error.message);
      expect(counter.signs() - before).toBe(1);
      return der.value;
    };

    it("verifies against the issuing CA and lists the revoked serial, its reason and the CRL number", async () => {
      const der = await crl([
        { serial: revoked.serial_number, revokedAt: new Date(revoked.revoked_at), reasonCode: "keyCompromise" },
        { serial: "4000000000000000000000000000abcd", revokedAt: new Date(), reasonCode: "unspecified" },
      ], 42n);
      writeFileSync(file("crl.der"), der);
      const v = await openssl(["crl", "-inform", "DER", "-in", "crl.der", "-CAfile", "chain.pem", "-noout", "-verify"], dir);
      expect(v).toMatchObject({ code: 0 });
      expect(v.out).toContain("verify OK");
      const text = (await openssl(["crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text"], dir)).out;
      expect(text).toContain("Version 2 (0x1)");
      expect(text).toContain("Signature Algorithm: sha256WithRSAEncryption");
      expect(text).toMatch(/X509v3 CRL Number:\s*\n\s*42\n/);
      expect(text).toMatch(new RegExp(`Serial Number: ${revoked.serial_number.toUpperCase()}\\s*\\n\\s*Revocation Date: .*\\n\\s*CRL entry extensions:\\s*\\n\\s*X509v3 CRL Reason Code:\\s*\\n\\s*Key Compromise`));
      // unspecified: no reasonCode entry extension (RFC 5280 §5.3.1), so no extensions block at all.
      expect(text).toMatch(/Serial Number: 4000000000000000000000000000ABCD\s*\n\s*Revocation Date: [^\n]*\n(?!\s*CRL entry extensions)/);
      // AKI = the issuing CA's SKI, as written in its certificate.
      const aki = /X509v3 Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)\n/.exec(text)?.[1]?.replace(/:/g, "").toLowerCase();
      expect(aki).toBe(skiOf(issuing));
    });

    it("openssl verify -crl_check rejects the revoked leaf and accepts a good one", async () => {
      const der = await crl([{ serial: revoked.serial_number, revokedAt: new Date(revoked.revoked_at), reasonCode: "keyCompromise" }], 43n);
      writeFileSync(file("crl.der"), der);
      expect((await openssl(["crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem"], dir)).code).toBe(0);
      const verify = (leaf: string) => openssl(["verify", "-crl_check", "-CRLfile", "crl.pem", "-CAfile", "root.pem", "-untrusted", "issuing.pem", leaf], dir);
      const bad = await verify("revoked.pem");
      expect(bad.code).not.toBe(0);
      expect(bad.out).toContain("certificate revoked");
      const ok = await verify("good.pem");
      expect(ok.out).toContain("good.pem: OK");
      expect(ok.code).toBe(0);
    });

    it("the published CRLs and the ARL are valid for a relying party whose clock is behind: thisUpdate back-dated as certificates' notBefore are", async () => {
      // A revocation re-signs them, and openssl refused a CRL whose thisUpdate was ahead of its own
      // clock ("CRL is not yet valid"), GnuTLS too ("issued with a future date"): before this, a
      // gateway a second behind the origin could not use a fresh CRL.
      const signers = keyManagerSigners(o.services);
      const t0 = Date.now();
      const [crls, arl] = await Promise.all([signers.crl(tenantRef), signers.arl()]);
      expect(crls?.length).toBeGreaterThan(0);
      for (const c of [...crls!, arl!]) {
        expect(c.thisUpdate.getTime()).toBeLessThanOrEqual(t0 - 60_000 + 1000);
        expect(c.nextUpdate.getTime()).toBeGreaterThanOrEqual(t0 + 24 * HOUR);
        expect(new x509.X509Crl(c.der).thisUpdate.getTime()).toBe(Math.floor(c.thisUpdate.getTime() / 1000) * 1000);
      }
    });

    it("an empty CRL omits revokedCertificates and still verifies", async () => {
      writeFileSync(file("empty.der"), await crl([], 44n));
      const v = await openssl(["crl", "-inform", "DER", "-in", "empty.der", "-CAfile", "chain.pem", "-noout", "-verify", "-text"], dir);
      expect(v.out).toContain("verify OK");
      expect(v.out).toContain("No Revoked Certificates.");
    });
  });

  describe("OCSP", () => {
    const responses = new Map<string, OcspResponses>();
    let server: Server;
    let url: string;
    let lastRequest: ReturnType<typeof parseOcspRequest> | undefined;

    /** What the edge does: parse, match issuer hashes and serial, serve the stored bytes. */
    const answer = (der: Uint8Array | undefined): Uint8Array => {
      if (!der) return OCSP_MALFORMED_REQUEST;
      const req = parseOcspRequest(der);
      lastRequest = req;
      if (!req.ok) return OCSP_MALFORMED_REQUEST;
      const hashes = issuerHashes(issuing);
      for (const id of req.value.certIds) {
        if (id.hashAlgorithm === "other") continue;
        const h = hashes[id.hashAlgorithm];
        const resp = responses.get(id.serial)?.[id.hashAlgorithm];
        if (resp && h.nameHash === id.issuerNameHash && h.keyHash === id.issuerKeyHash) return resp;
      }
      return OCSP_UNAUTHORIZED;
    };

    beforeAll(async () => {
      const now = new Date();
      const window = { thisUpdate: now, nextUpdate: new Date(now.getTime() + 96 * HOUR), producedAt: now };
      for (const [cert, extra] of [
        [good, { status: "good" }],
        [revoked, { status: "revoked", revokedAt: new Date(revoked.revoked_at), reasonCode: "keyCompromise" }],
      ] as const) {
        const before = counter.signs();
        const r = await buildOcspResponses(counter.keys, issuing, { serial: cert.serial_number, ...window, ...extra });
        if (!r.ok) throw new Error(r.error.message);
        // One signature per CertID hash: each response carries one SingleResponse.
        expect(counter.signs() - before).toBe(2);
        responses.set(cert.serial_number, r.value);
      }
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          const body = req.method === "POST" ? new Uint8Array(Buffer.concat(chunks)) : decodeOcspGetPath((req.url ?? "/").slice(1));
          res.writeHead(200, { "content-type": "application/ocsp-response" }).end(answer(body));
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => { await new Promise((resolve) => server.close(resolve)); });

    // The CertID digest option must precede -cert: openssl builds the CertID while parsing -cert.
    const ocsp = (leaf: string, digest: "-sha1" | "-sha256", ...extra: string[]) =>
      openssl(["ocsp", "-issuer", "issuing.pem", digest, "-cert", leaf, "-url", url, "-CAfile", "root.pem", "-resp_text", ...extra], dir);

    it("POST, SHA-1 CertID: good, verified up to the root", async () => {
      const r = await ocsp("good.pem", "-sha1");
      expect(r.out).toContain("Response verify OK");
      expect(r.out).toContain("good.pem: good");
      expect(r.code).toBe(0);
      // openssl sends a nonce by default; a pre-signed response cannot echo it.
      expect(lastRequest?.ok && lastRequest.value.nonce?.length).toBeGreaterThan(0);
      expect(r.out).toContain("WARNING: no nonce in response");
      // One SingleResponse, in the hash the request used; the responder is identified by key.
      expect(r.out.match(/Hash Algorithm: /g)).toHaveLength(1);
      expect(r.out).not.toContain("Hash Algorithm: sha256");
      expect(r.out).toContain(`Responder Id: ${issuerHashes(issuing).sha1.keyHash.toUpperCase()}`);
    });

    it("POST, SHA-256 CertID: revoked with its reason", async () => {
      const r = await ocsp("revoked.pem", "-sha256", "-no_nonce");
      expect(lastRequest?.ok && lastRequest.value.certIds[0]?.hashAlgorithm).toBe("sha256");
      expect(r.out).toContain("Response verify OK");
      expect(r.out).toContain("revoked.pem: revoked");
      expect(r.out).toContain("Reason: keyCompromise");
      expect(r.out).toMatch(/Revocation Time: /);
    });

    it("GET /<url-encoded base64 request> (openssl has no GET switch: -reqout, fetch, -respin)", async () => {
      for (const [leaf, status, alg] of [["good.pem", "good", "-sha1"], ["revoked.pem", "revoked", "-sha256"]] as const) {
        expect((await openssl(["ocsp", "-issuer", "issuing.pem", alg, "-cert", leaf, "-no_nonce", "-reqout", "req.der"], dir)).code).toBe(0);
        const b64 = readFileSync(file("req.der")).toString("base64");
        const res = await fetch(`${url}/${encodeURIComponent(b64)}`);
        expect(res.headers.get("content-type")).toBe("application/ocsp-response");
        writeFileSync(file("resp.der"), new Uint8Array(await res.arrayBuffer()));
        // The response carries the CertID in the hash asked: openssl looks it up in that hash.
        const r = await openssl(["ocsp", "-respin", "resp.der", "-issuer", "issuing.pem", alg, "-cert", leaf, "-CAfile", "root.pem", "-no_nonce"], dir);
        expect(r.out).toContain("Response verify OK");
        expect(r.out).toContain(`${leaf}: ${status}`);
        // A client that does not percent-encode: raw "+" and "/" in the path decode the same.
        expect(decodeOcspGetPath(b64)).toEqual(new Uint8Array(readFileSync(file("req.der"))));
      }
    });

    it("the response carries no certs (Go's x/crypto/ocsp would read the issuer as a delegated responder) and chains to the root from the issuer the client holds, not to another root", async () => {
      // No -issuer here: with -issuer, openssl retries a failed verification trusting that
      // certificate outright (OCSP_TRUSTOTHER), so even a wrong -CAfile passes. -verify_other only
      // offers the issuer as a candidate signer, which must then chain to -CAfile.
      expect((await openssl(["ocsp", "-issuer", "issuing.pem", "-cert", "good.pem", "-no_nonce", "-reqout", "req.der"], dir)).code).toBe(0);
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/ocsp-request" }, body: readFileSync(file("req.der")) });
      writeFileSync(file("resp.der"), new Uint8Array(await res.arrayBuffer()));
      const text = await openssl(["ocsp", "-respin", "resp.der", "-resp_text", "-noverify"], dir);
      expect(text.out).toContain("Cert Status: good");
      expect(text.out).not.toContain("Certificate:");
      const okRoot = await openssl(["ocsp", "-respin", "resp.der", "-verify_other", "issuing.pem", "-CAfile", "root.pem"], dir);
      expect(okRoot.out).toContain("Response verify OK");
      await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=Other Root", "-keyout", "other.key", "-out", "other.pem", "-days", "1"], dir);
      const other = await openssl(["ocsp", "-respin", "resp.der", "-verify_other", "issuing.pem", "-CAfile", "other.pem"], dir);
      expect(other.out).toContain("Response Verify Failure");
      expect(other.code).not.toBe(0);
    });

    it("unknown serial → unauthorized (6); garbage → malformedRequest", async () => {
      const r = await ocsp("unknown.pem", "-sha1", "-no_nonce");
      expect(r.out).toContain("Responder Error: unauthorized (6)");
      const malformed = { ok: false, error: "malformed" };
      expect(parseOcspRequest(new TextEncoder().encode("definitely not DER"))).toEqual(malformed);
      expect(parseOcspRequest(new Uint8Array(0))).toEqual(malformed);
      // An odd-length BMPString makes asn1js throw a RangeError; it must come back as malformed.
      expect(parseOcspRequest(Uint8Array.of(0x30, 0x05, 0x30, 0x03, 0x1e, 0x01, 0x41))).toEqual(malformed);
      const req = new Uint8Array(readFileSync(file("req.der")));
      expect(parseOcspRequest(req.subarray(0, req.length - 1))).toEqual(malformed);
      expect(parseOcspRequest(Uint8Array.of(...req, 0))).toEqual(malformed);
      const res = await fetch(url, { method: "POST", headers: { "content-type": "application/ocsp-request" }, body: "garbage" });
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(OCSP_MALFORMED_REQUEST);
      writeFileSync(file("malformed.der"), OCSP_MALFORMED_REQUEST);
      expect((await openssl(["ocsp", "-respin", "malformed.der", "-resp_text", "-noverify"], dir)).out).toContain("malformedrequest (1)");
    });
  });

  describe("parseOcspRequest / decodeOcspGetPath", () => {
    it("reads openssl's CertID exactly as issuerHashes computes it", async () => {
      expect((await openssl(["ocsp", "-issuer", "issuing.pem", "-cert", "good.pem", "-nonce", "-reqout", "req1.der"], dir)).code).toBe(0);
      const r = parseOcspRequest(new Uint8Array(readFileSync(file("req1.der"))));
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const h = issuerHashes(issuing).sha1;
      expect(r.value.certIds).toEqual([{ hashAlgorithm: "sha1", issuerNameHash: h.nameHash, issuerKeyHash: h.keyHash, serial: good.serial_number }]);
      expect(r.value.nonce).toHaveLength(16);
      // SHA-1 key hash = SKI (RFC 5280 method 1) = responderID byKey.
      expect(h.keyHash).toBe(skiOf(issuing));
    });

    it("decodes %2B %2F %3D and raw + /, rejects non-base64", () => {
      const bytes = Uint8Array.of(0xfb, 0xff, 0xbf, 0x30);
      const b64 = Buffer.from(bytes).toString("base64"); // "+/+/MA=="
      expect(b64).toBe("+/+/MA==");
      expect(decodeOcspGetPath("%2B%2F%2B%2FMA%3D%3D")).toEqual(bytes);
      expect(decodeOcspGetPath(b64)).toEqual(bytes);
      expect(decodeOcspGetPath("+/+/MA")).toEqual(bytes);
      for (const bad of ["", "%zz", "a b", "abcde", "*"]) expect(decodeOcspGetPath(bad), bad).toBeUndefined();
    });
  });
});
