import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, SAMPLE_HASH } from "../origin/test/harness.ts";
import { splitPem } from "../origin/test/openssl.ts";
import { askOcspEverywhere, runOcspClients, runParserMatrix, runRevocationClients, type OcspClientResult, type ParserResult } from "./support/parser-matrix.ts";
import { createVerifier } from "@kakunin/verify";
import { kakunin } from "../cli/test/support/run.ts";
import { pollUntil, startSystem, systemFixture, type RunningSystem } from "./support/system.ts";

function sh(cmd: string, args: string[]): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    return { ok: false, out: `${x.stdout ?? ""}${x.stderr ?? ""}` };
  }
}

/**
 * Every certificate Kakunin issues (root, issuing CA, agent, audit), taken from the real routes of
 * a running origin (the same certify route `pnpm demo` calls), must parse and chain-verify in the
 * six X.509 implementations gateways use. Go and GnuTLS refused the old 2.25.<UUID> model OID.
 */
describe("PKI interoperability against a running origin and edge", () => {
  const fx = systemFixture();
  let sys: RunningSystem;
  const api = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const r = await fetch(`${sys.origin.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${fx.adminKey}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!r.ok) throw new Error(`${method} ${path} → ${r.status} ${await r.text()}`);
    return ((await r.json()) as { data: T }).data;
  };

  beforeAll(async () => {
    sys = await startSystem(fx);
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
    fx.cleanup();
  });

  it("root, issuing CA, agent and audit certificates parse and verify in all six parsers", async () => {
    const agent = await api<{ id: string }>("POST", "/v1/agents", agentBody({ name: "matrix-bot" }));
    const cert = await api<{ certificate_pem: string }>("POST", `/v1/agents/${agent.id}/certify`);
    const [issuing, root] = splitPem((await api<{ chain_pem: string }>("GET", "/v1/ca")).chain_pem);
    const head = await api<{ signer_certificate_pem: string }>("GET", "/v1/audit/tree-head");
    const dir = join(fx.dir, "matrix");
    mkdirSync(dir);
    const t0 = performance.now();
    const results = await runParserMatrix(dir, {
      root: root!, intermediates: [issuing!], leaves: { agent: cert.certificate_pem, audit: head.signer_certificate_pem },
    });
    const wall = performance.now() - t0;
    const failures = results.filter((r) => !r.ok).map((r) => `--- ${r.parser} (${r.ms} ms)\n${r.output}`);
    expect(failures.join("\n")).toBe("");
    expect(results.map((r) => r.parser).sort()).toEqual(["gnutls", "go", "java", "openssl", "peculiar-x509", "python-cryptography"]);
    // Each parser saw all four certificates.
    const by = (p: string): ParserResult => results.find((r) => r.parser === p)!;
    expect(by("go").output.match(/^OK /gm)?.length).toBeGreaterThanOrEqual(4);
    expect(by("java").output.match(/^OK /gm)?.length).toBeGreaterThanOrEqual(4);
    expect(by("python-cryptography").output.match(/^OK /gm)?.length).toBeGreaterThanOrEqual(4);
    expect(by("gnutls").output.match(/Chain verification output: Verified/g)?.length).toBe(3);
    // A Go gateway with no Kakunin code reads the model binding from the SAN.
    expect(by("go").output).toContain(`urn:kakunin:model:sha256:${SAMPLE_HASH.replace(/^sha256:/, "")}`);
    console.log(`parser matrix: ${Math.round(wall)} ms wall; ${results.map((r) => `${r.parser} ${r.ms} ms`).join(", ")}`);
    expect(wall).toBeLessThan(60_000);
  });

  it("AIA and CDP lead standard tooling to the edge: openssl ocsp and verify -crl_download with no URL given", async () => {
    const tenant = await api<{ id: string }>("GET", "/v1/tenant");
    const agent = await api<{ id: string }>("POST", "/v1/agents", agentBody({ name: "aia-bot" }));
    const cert = await api<{ id: string; serial_number: string; certificate_pem: string }>("POST", `/v1/agents/${agent.id}/certify`);
    const [issuing, root] = splitPem((await api<{ chain_pem: string }>("GET", "/v1/ca")).chain_pem);
    const dir = join(fx.dir, "aia");
    mkdirSync(dir);
    const f = (n: string) => join(dir, n);
    writeFileSync(f("leaf.pem"), cert.certificate_pem);
    writeFileSync(f("issuing.pem"), issuing!);
    writeFileSync(f("root.pem"), root!);
    // The URLs come out of the certificates themselves, as a relying party reads them.
    const ocspUrl = sh("openssl", ["x509", "-in", f("leaf.pem"), "-noout", "-ocsp_uri"]).out.trim();
    expect(ocspUrl).toBe(`${sys.edge.url}/v1/ocsp`);
    const leafText = sh("openssl", ["x509", "-in", f("leaf.pem"), "-noout", "-text"]).out;
    const caIssuers = /CA Issuers - URI:(\S+)/.exec(leafText)?.[1];
    const issuerSerial = (await api<{ issuing: { serial_number: string } }>("GET", "/v1/ca")).issuing.serial_number;
    expect(caIssuers).toBe(`${sys.edge.url}/v1/ca/${tenant.id}/${issuerSerial}`);
    const rootIssuers = /CA Issuers - URI:(\S+)/.exec(sh("openssl", ["x509", "-in", f("issuing.pem"), "-noout", "-text"]).out)?.[1];
    // caIssuers serves exactly the issuer's DER (RFC 5280 §4.2.2.1), for the leaf and for the issuing CA.
    const derOf = (pemFile: string) => execFileSync("openssl", ["x509", "-in", pemFile, "-outform", "DER"]);
    const fetched = await fetch(caIssuers!);
    expect(fetched.headers.get("content-type")).toBe("application/pkix-cert");
    expect(Buffer.from(await fetched.arrayBuffer()).equals(derOf(f("issuing.pem")))).toBe(true);
    expect(Buffer.from(await (await fetch(rootIssuers!)).arrayBuffer()).equals(derOf(f("root.pem")))).toBe(true);

    const ocsp = () => sh("openssl", ["ocsp", "-issuer", f("issuing.pem"), "-cert", f("leaf.pem"), "-url", ocspUrl, "-CAfile", f("root.pem")]).out;
    // -crl_check downloads the CRL named by the checked certificate's CDP: the leaf's (tenant CRL),
    // then the issuing CA's (the root's ARL). (-crl_check_all would also want a CRL for the root
    // itself, which no self-signed root names.)
    const crlVerify = (cert = f("leaf.pem")) => sh("openssl", ["verify", "-x509_strict", "-crl_download", "-crl_check", "-CAfile", f("root.pem"), "-untrusted", f("issuing.pem"), cert]);
    const good = await pollUntil(async () => (/leaf\.pem: good/.test(ocsp()) ? true : undefined), 10_000, 100);
    expect(good.value).toBe(true);
    let last = "";
    const ok = await pollUntil(async () => { const r = crlVerify(); last = r.out; return r.ok ? r.out : undefined; }, 10_000, 100).catch(() => ({ value: last }));
    expect(ok.value).toContain("leaf.pem: OK");
    const arl = crlVerify(f("issuing.pem"));
    expect(arl.out).toContain("issuing.pem: OK");

    await api("POST", `/v1/certificates/${cert.id}/revoke`, { reason: "key compromise suspected", reason_code: "keyCompromise" });
    const revoked = await pollUntil(async () => { const out = ocsp(); return /leaf\.pem: revoked/.test(out) ? out : undefined; }, 10_000, 100);
    expect(revoked.value).toMatch(/Reason: keyCompromise/);
    const refused = await pollUntil(async () => { const r = crlVerify(); return !r.ok && /certificate revoked/.test(r.out) ? r.out : undefined; }, 10_000, 100);
    expect(refused.value).toContain("certificate revoked");
    expect(readFileSync(f("leaf.pem"), "utf8")).toBe(cert.certificate_pem);
  });

  it("the edge's OCSP answers parse in Go's x/crypto/ocsp and Python cryptography, for SHA-1 and SHA-256 CertIDs: one SingleResponse, in the hash asked, signed by the issuer", async () => {
    const agent = await api<{ id: string }>("POST", "/v1/agents", agentBody({ name: "ocsp-clients-bot" }));
    const cert = await api<{ id: string; certificate_pem: string }>("POST", `/v1/agents/${agent.id}/certify`);
    const [issuing] = splitPem((await api<{ chain_pem: string }>("GET", "/v1/ca")).chain_pem);
    const dir = join(fx.dir, "ocsp-clients");
    mkdirSync(dir);
    writeFileSync(join(dir, "issuing.pem"), issuing!);
    writeFileSync(join(dir, "leaf.pem"), cert.certificate_pem);
    const ask = () => runOcspClients(`${sys.edge.url}/v1/ocsp`, join(dir, "issuing.pem"), join(dir, "leaf.pem"));
    const lines = (rs: OcspClientResult[]) => rs.map((r) => `${r.client} ${r.hash}: ${r.output.trim()}`).sort();
    const expectAll = (rs: OcspClientResult[], status: string) => {
      expect(rs).toHaveLength(4);
      expect(lines(rs)).toEqual(rs.map((r) => `${r.client} ${r.hash}: OK status=${status} reason=${status === "good" ? (r.client === "go-x-crypto-ocsp" ? "0" : "none") : (r.client === "go-x-crypto-ocsp" ? "1" : "key_compromise")} hash=${r.hash}`).sort());
    };
    expectAll(await ask(), "good");
    await api("POST", `/v1/certificates/${cert.id}/revoke`, { reason: "key compromise suspected", reason_code: "keyCompromise" });
    // The revoke answers after the edge has the record; the edge's prepared response lives ≤ 200 ms.
    const revoked = await pollUntil(async () => { const rs = await ask(); return rs.every((r) => r.output.includes("status=revoked")) ? rs : undefined; }, 10_000, 200)
      .catch(async () => ({ value: await ask() }));
    expectAll(revoked.value, "revoked");
  });

  it("Java PKIXRevocationChecker (OCSP by GET and POST, CRLs), GnuTLS ocsptool and certtool, Go crypto/x509 and Python cryptography CRLs: good, revoked/keyCompromise, superseded; CRLs valid for a gateway 30 s behind; a predecessor's 'good' is not served past its overlap", async () => {
    const dir = join(fx.dir, "revocation-clients");
    mkdirSync(dir);
    const f = (n: string) => join(dir, n);
    type Issued = { id: string; serial_number: string; certificate_pem: string };
    const certifyOne = async (name: string) => {
      const agent = await api<{ id: string }>("POST", "/v1/agents", agentBody({ name }));
      return { agent: agent.id, cert: await api<Issued>("POST", `/v1/agents/${agent.id}/certify`) };
    };
    const [good, revoked, renewed, overlapping] = await Promise.all(["rev-good", "rev-revoked", "rev-renewed", "rev-overlap"].map(certifyOne));
    const renew = (agent: string, overlap: number) => api<Issued & { predecessor: { superseded_at: string } }>("POST", `/v1/agents/${agent}/certificates/renew`, { overlap_seconds: overlap });
    // overlap 0: the predecessor is superseded at once (CRL and OCSP reason superseded); overlap 2 s:
    // its "good" response runs out with the overlap, long before the origin's 30 s supersede job.
    const [successor, overlapped] = await Promise.all([renew(renewed!.agent, 0), renew(overlapping!.agent, 2)]);
    await api("POST", `/v1/certificates/${revoked!.cert.id}/revoke`, { reason: "key compromise suspected", reason_code: "keyCompromise" });
    const [issuing, root] = splitPem((await api<{ chain_pem: string }>("GET", "/v1/ca")).chain_pem);
    writeFileSync(f("root.pem"), root!);
    writeFileSync(f("issuing.pem"), issuing!);
    const leaves = { good: good!.cert, revoked: revoked!.cert, superseded: renewed!.cert, successor: successor };
    for (const [n, c] of Object.entries(leaves)) writeFileSync(f(`${n}.pem`), c.certificate_pem);
    writeFileSync(f("overlapped.pem"), overlapping!.cert.certificate_pem);
    // The CRL and ARL as a relying party finds them: through the leaf's and the issuing CA's CDP.
    const cdp = (pem: string) => /CRL Distribution Points:[\s\S]*?URI:(\S+)/.exec(sh("openssl", ["x509", "-in", pem, "-noout", "-text"]).out)![1]!;
    const crl = await pollUntil(async () => {
      const der = Buffer.from(await (await fetch(cdp(f("good.pem")))).arrayBuffer());
      writeFileSync(f("crl.der"), der);
      const text = sh("openssl", ["crl", "-inform", "DER", "-in", f("crl.der"), "-noout", "-text"]).out.toUpperCase();
      return [revoked!.cert, renewed!.cert].every((c) => text.includes(c.serial_number.toUpperCase())) ? true : undefined;
    }, 10_000, 100);
    expect(crl.value).toBe(true);
    writeFileSync(f("arl.der"), Buffer.from(await (await fetch(cdp(f("issuing.pem")))).arrayBuffer()));
    const endsAt = Date.parse(overlapped.predecessor.superseded_at);
    await new Promise((r) => setTimeout(r, Math.max(0, endsAt + 1000 - Date.now())));
    const [results, pastOverlap] = await Promise.all([
      runRevocationClients(dir, {
        root: f("root.pem"), issuing: f("issuing.pem"), crl: f("crl.der"), arl: f("arl.der"),
        leaves: Object.fromEntries(Object.keys(leaves).map((n) => [n, f(`${n}.pem`)])),
        serials: Object.fromEntries(Object.entries(leaves).map(([n, c]) => [n, c.serial_number])),
      }),
      askOcspEverywhere(`${sys.edge.url}/v1/ocsp`, f("root.pem"), f("issuing.pem"), f("overlapped.pem")),
    ]);
    const crlOk = { crl: "OK", arl: "OK" };
    const java = { good: "good", revoked: "revoked KEY_COMPROMISE", superseded: "revoked SUPERSEDED", successor: "good" };
    const plain = { good: "good", revoked: "revoked", superseded: "revoked", successor: "good" };
    expect(Object.fromEntries(results.map((r) => [r.client, r.verdicts]))).toEqual({
      "java-ocsp-get": java,
      "java-ocsp-post": java,
      "java-crl": java,
      "gnutls-ocsptool": plain,
      "gnutls-certtool-crl": { ...plain, ...crlOk },
      // Go 1.19's RevokedCertificate carries no reason field.
      "go-x509-crl": { ...plain, ...crlOk },
      "python-cryptography-crl": { good: "good", revoked: "revoked key_compromise", superseded: "revoked superseded", successor: "good", ...crlOk },
    });
    // A gateway whose clock is 30 s behind the origin's: the CRL and ARL, just re-signed by the
    // revoke above, must already be valid there (openssl: "CRL is not yet valid"; GnuTLS: "issued
    // with a future date"), as certificates are (notBefore is back-dated for the same reason).
    // runRevocationClients left the CRLs in PEM in `dir`.
    const slow = (cmd: string, ...args: string[]) => sh("faketime", ["-f", "-30s", cmd, ...args]);
    const slowClock = [
      slow("openssl", "verify", "-x509_strict", "-crl_check", "-CAfile", f("root.pem"), "-untrusted", f("issuing.pem"), "-CRLfile", f("crls.pem"), f("good.pem")),
      slow("openssl", "verify", "-x509_strict", "-crl_check", "-CAfile", f("root.pem"), "-CRLfile", f("crls.pem"), f("issuing.pem")),
      slow("certtool", "--verify-crl", "--load-ca-certificate", f("issuing.pem"), "--infile", f("crl.pem")),
      slow("certtool", "--verify-crl", "--load-ca-certificate", f("root.pem"), "--infile", f("arl.pem")),
    ].map((r) => r.out.trim().split("\n").slice(-2).join(" / "));
    expect(slowClock.filter((out) => !/: OK$|Verification output: Verified\./.test(out))).toEqual([]);
    // Past the overlap, before the origin re-signs: no client may read the predecessor as good.
    // (Java read the expired "good" as good, within its 15-minute clock skew; Go and Python ignore nextUpdate.)
    expect(pastOverlap).toHaveLength(6);
    expect(pastOverlap.filter((line) => !/revoked|try[ _]?later/i.test(line))).toEqual([]);
  });

  it("issuing-CA rollover mid-run (kakunin ca rollover): agents before and after verify at the edge, in the SDK and in openssl; revocations land in each CA's own CRL", async () => {
    const dir = join(fx.dir, "rollover");
    mkdirSync(dir);
    const f = (n: string) => join(dir, n);
    const certifyOne = async (name: string) => {
      const agent = await api<{ id: string }>("POST", "/v1/agents", agentBody({ name }));
      return api<{ id: string; serial_number: string; certificate_pem: string }>("POST", `/v1/agents/${agent.id}/certify`);
    };
    const before = await certifyOne("before-rollover");
    const [oldIssuing, root] = splitPem((await api<{ chain_pem: string }>("GET", "/v1/ca")).chain_pem);
    const cli = await kakunin({ KAKUNIN_CONFIG: f("cli.json"), KAKUNIN_ORIGIN_URL: sys.origin.url, KAKUNIN_API_KEY: fx.adminKey }, "ca", "rollover", "--json");
    expect(cli.code, cli.stderr).toBe(0);
    const rolled = JSON.parse(cli.stdout) as { current: { certificate_pem: string; subject: string }; previous: { certificate_pem: string } };
    expect(rolled.previous.certificate_pem).toBe(oldIssuing);
    const after = await certifyOne("after-rollover");
    const newIssuing = rolled.current.certificate_pem;
    writeFileSync(f("root.pem"), root!);
    // Cross-published: the relying party's intermediates bundle holds both issuing CAs.
    writeFileSync(f("issuers.pem"), oldIssuing! + newIssuing);
    writeFileSync(f("before.pem"), before.certificate_pem);
    writeFileSync(f("after.pem"), after.certificate_pem);

    const sdk = createVerifier({ edgeUrl: sys.edge.url, cacheTtlMs: 0, finalCacheTtlMs: 0, unknownCacheTtlMs: 0 });
    const edgeVerdict = async (serial: string) => ((await (await fetch(`${sys.edge.url}/v1/verify/${serial}`)).json()) as { data?: { valid: boolean; status: string } }).data;
    for (const c of [before, after]) {
      const v = await pollUntil(async () => ((await edgeVerdict(c.serial_number))?.valid ? true : undefined), 10_000, 100);
      expect(v.value).toBe(true);
      expect((await sdk.verify(c.serial_number)).valid).toBe(true);
    }
    // openssl finds each agent's CRL through its own CDP (per issuer) and builds each chain from the bundle.
    const crlVerify = (leaf: string) => sh("openssl", ["verify", "-x509_strict", "-crl_download", "-crl_check", "-CAfile", f("root.pem"), "-untrusted", f("issuers.pem"), f(leaf)]);
    for (const leaf of ["before.pem", "after.pem"]) {
      const ok = await pollUntil(async () => { const r = crlVerify(leaf); return r.ok ? r.out : undefined; }, 10_000, 100);
      expect(ok.value).toContain(`${leaf}: OK`);
    }
    // The parser matrix over both generations.
    mkdirSync(f("matrix"));
    const matrix = await runParserMatrix(f("matrix"), {
      root: root!, intermediates: [oldIssuing!, newIssuing], leaves: { before: before.certificate_pem, after: after.certificate_pem },
    });
    expect(matrix.filter((r) => !r.ok).map((r) => `--- ${r.parser}\n${r.output}`).join("\n")).toBe("");

    for (const c of [before, after]) await api("POST", `/v1/certificates/${c.id}/revoke`, { reason: "rollover e2e", reason_code: "keyCompromise" });
    for (const c of [before, after]) {
      const v = await pollUntil(async () => ((await edgeVerdict(c.serial_number))?.status === "revoked" ? true : undefined), 10_000, 100);
      expect(v.value).toBe(true);
      expect((await sdk.verify(c.serial_number)).valid).toBe(false);
    }
    for (const leaf of ["before.pem", "after.pem"]) {
      const refused = await pollUntil(async () => { const r = crlVerify(leaf); return /certificate revoked/.test(r.out) ? r.out : undefined; }, 10_000, 100);
      expect(refused.value).toContain("certificate revoked");
    }
    // Each revocation is in its own CA's CRL only (the CDP URLs from the certificates themselves).
    const cdp = (leaf: string) => /CRL Distribution Points:[\s\S]*?URI:(\S+)/.exec(sh("openssl", ["x509", "-in", f(leaf), "-noout", "-text"]).out)![1]!;
    const crlText = async (url: string, name: string) => {
      writeFileSync(f(name), Buffer.from(await (await fetch(url)).arrayBuffer()));
      return sh("openssl", ["crl", "-inform", "DER", "-in", f(name), "-noout", "-text"]).out.toUpperCase();
    };
    expect(cdp("before.pem")).not.toBe(cdp("after.pem"));
    const oldCrl = await crlText(cdp("before.pem"), "old.crl");
    const newCrl = await crlText(cdp("after.pem"), "new.crl");
    expect(oldCrl).toContain(before.serial_number.toUpperCase());
    expect(oldCrl).not.toContain(after.serial_number.toUpperCase());
    expect(newCrl).toContain(after.serial_number.toUpperCase());
    expect(newCrl).not.toContain(before.serial_number.toUpperCase());
  });
});
