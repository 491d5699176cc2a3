import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { x509 } from "../../origin/src/ca/x509.ts";

/**
 * The parser matrix: six X.509 implementations a gateway might use, each run ONCE over every
 * certificate (not once per certificate), in parallel. Each one parses every certificate and
 * verifies the chain root → issuing CA(s) → leaves. System parsers are installed by
 * scripts/install-system-deps.sh (part of the test command), never skipped.
 */
export const PARSERS = ["openssl", "gnutls", "go", "java", "python-cryptography", "peculiar-x509"] as const;
export type Parser = (typeof PARSERS)[number];

export interface ParserResult {
  parser: Parser;
  ok: boolean;
  output: string;
  ms: number;
}

export interface MatrixInput {
  root: string;
  /** Issuing CAs (PEM), each signed by the root. */
  intermediates: string[];
  /** End-entity certificates (PEM) by a file-safe name. */
  leaves: Record<string, string>;
}

const HERE = resolve(import.meta.dirname, "../parsers");

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ ok: boolean; output: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { env, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 }, (error, stdout, stderr) => {
      res({ ok: !error, output: `${stdout}${stderr}${error && !stdout && !stderr ? String(error) : ""}` });
    });
  });
}

async function timed(parser: Parser, fn: () => Promise<{ ok: boolean; output: string }>): Promise<ParserResult> {
  const t0 = performance.now();
  const r = await fn();
  return { parser, ...r, ms: Math.round(performance.now() - t0) };
}

async function allOk(runs: Promise<{ ok: boolean; output: string }>[]): Promise<{ ok: boolean; output: string }> {
  const done = await Promise.all(runs);
  return { ok: done.every((d) => d.ok), output: done.map((d) => d.output).join("") };
}

/** A PEM bundle's certificates, in order. */
export function pemBlocks(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)?.map((b) => (b.endsWith("\n") ? b : `${b}\n`)) ?? [];
}

/** @peculiar/x509 in process: parse (every extension) and check each signature up to the root. */
async function peculiar(input: MatrixInput): Promise<{ ok: boolean; output: string }> {
  const lines: string[] = [];
  let ok = true;
  const all: [string, string][] = [["root", input.root], ...input.intermediates.map((p, i): [string, string] => [`issuing-${i}`, p]), ...Object.entries(input.leaves)];
  const cas = [input.root, ...input.intermediates].map((p) => new x509.X509Certificate(p));
  for (const [name, pem] of all) {
    try {
      let at = new x509.X509Certificate(pem);
      const exts = at.extensions.map((e) => e.type);
      for (let hop = 0; ; hop++) {
        const issuer = await findIssuer(at, cas);
        if (!issuer) throw new Error(`no issuer verifies ${at.subject}`);
        if (issuer.equal(at) || hop > 3) break;
        at = issuer;
      }
      lines.push(`OK ${name} ${new x509.X509Certificate(pem).subject} exts=${exts.join(",")}\n`);
    } catch (e) {
      ok = false;
      lines.push(`FAIL ${name}: ${String(e)}\n`);
    }
  }
  return { ok, output: lines.join("") };
}

async function findIssuer(cert: x509.X509Certificate, cas: x509.X509Certificate[]): Promise<x509.X509Certificate | undefined> {
  for (const ca of cas) {
    if (ca.subject !== cert.issuer) continue;
    if (await cert.verify({ publicKey: ca, signatureOnly: true })) return ca;
  }
  return undefined;
}

// A build cache that exists even where HOME does not (CI containers); kept across runs for speed.
// GOPATH is Debian's: golang-golang-x-crypto-dev puts golang.org/x/crypto/ocsp there.
const goEnv = { ...process.env, GO111MODULE: "off", GOFLAGS: "", GOTOOLCHAIN: "local", GOPATH: "/usr/share/gocode", GOCACHE: process.env.GOCACHE ?? join(tmpdir(), "kakunin-go-build-cache") };

/** The OCSP clients of gateways that refuse a response unless it carries exactly one SingleResponse. */
export const OCSP_CLIENTS = ["go-x-crypto-ocsp", "python-cryptography"] as const;
export type OcspClient = (typeof OCSP_CLIENTS)[number];
export type OcspHash = "sha1" | "sha256";

export interface OcspClientResult {
  client: OcspClient;
  hash: OcspHash;
  ok: boolean;
  /** "OK status=good|revoked|unknown reason=… hash=…" or "FAIL …" (test/parsers/ocsp.go, ocsp.py). */
  output: string;
}

/**
 * Asks the responder at `url` about `leafFile` (issued by `issuerFile`) with each client and each
 * CertID hash, in parallel: each client builds its own request, POSTs it, parses the answer and
 * verifies its signature with the issuer's key.
 */
export function runOcspClients(url: string, issuerFile: string, leafFile: string): Promise<OcspClientResult[]> {
  const hashes: OcspHash[] = ["sha1", "sha256"];
  return Promise.all(hashes.flatMap((hash) => [
    run("go", ["run", join(HERE, "ocsp.go"), url, issuerFile, leafFile, hash], goEnv).then((r) => ({ client: "go-x-crypto-ocsp" as const, hash, ...r })),
    run("/usr/bin/python3", [join(HERE, "ocsp.py"), url, issuerFile, leafFile, hash]).then((r) => ({ client: "python-cryptography" as const, hash, ...r })),
  ]));
}

/** Writes the certificates into `dir` and runs all six parsers over them. */
export async function runParserMatrix(dir: string, input: MatrixInput): Promise<ParserResult[]> {
  const root = join(dir, "root.pem");
  const ints = join(dir, "intermediates.pem");
  writeFileSync(root, input.root);
  writeFileSync(ints, input.intermediates.join(""));
  const intFiles = input.intermediates.map((pem, i) => {
    const f = join(dir, `issuing-${i}.pem`);
    writeFileSync(f, pem);
    return f;
  });
  const leafFiles = Object.entries(input.leaves).map(([name, pem]) => {
    const f = join(dir, `${name}.pem`);
    writeFileSync(f, pem);
    return f;
  });
  const every = join(dir, "all.pem");
  writeFileSync(every, [input.root, ...input.intermediates, ...Object.values(input.leaves)].join(""));
  const files = [root, ints, ...leafFiles];
  // certtool --verify takes one chain per call: leaf followed by the issuing CA that signed it.
  const gnutlsChains = [...intFiles, ...leafFiles].map((f, i) => {
    const chain = join(dir, `gnutls-chain-${i}.pem`);
    const leaf = i < intFiles.length ? input.intermediates[i]! : input.leaves[Object.keys(input.leaves)[i - intFiles.length]!]!;
    writeFileSync(chain, i < intFiles.length ? leaf : leaf + input.intermediates.join(""));
    return chain;
  });
  return Promise.all([
    timed("openssl", () => run("openssl", ["verify", "-x509_strict", "-show_chain", "-CAfile", root, "-untrusted", ints, root, ...intFiles, ...leafFiles])),
    timed("gnutls", () => allOk([
      run("certtool", ["-i", "--infile", every]),
      ...gnutlsChains.map((c) => run("certtool", ["--verify", "--load-ca-certificate", root, "--infile", c])),
    ])),
    timed("go", () => run("go", ["run", join(HERE, "verify.go"), ...files], goEnv)),
    timed("java", () => run("java", [join(HERE, "Verify.java"), ...files])),
    timed("python-cryptography", () => run("/usr/bin/python3", [join(HERE, "verify.py"), ...files])),
    timed("peculiar-x509", () => peculiar(input)),
  ]);
}

/** The revocation checkers of gateways: OCSP by the AIA URL and CRLs by the CDP URL the certificates name. */
export const REVOCATION_CLIENTS = ["java-ocsp-get", "java-ocsp-post", "java-crl", "gnutls-ocsptool", "gnutls-certtool-crl", "go-x509-crl", "python-cryptography-crl"] as const;
export type RevocationClient = (typeof REVOCATION_CLIENTS)[number];

export interface RevocationInput {
  root: string;
  issuing: string;
  /** Agent certificates (PEM files) by a file-safe name; their AIA and CDP lead to the edge. */
  leaves: Record<string, string>;
  /** The partition CRL (DER) the leaves' CDP names and the root's ARL (DER), as fetched from the edge. */
  crl: string;
  arl: string;
  /** Each leaf's serial (lowercase hex), looked up in the CRL. */
  serials: Record<string, string>;
}

export interface RevocationResult {
  client: RevocationClient;
  /** Leaf name → "good", "revoked <reason as the client names it>" or "FAIL <error>"; "crl"/"arl" for the CRL checks. */
  verdicts: Record<string, string>;
  output: string;
}

function derToPem(der: Buffer, label: string): string {
  return `-----BEGIN ${label}-----\n${der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END ${label}-----\n`;
}

/**
 * Runs every revocation client over the leaves, in parallel: Java's PKIXRevocationChecker (OCSP by
 * GET and by POST, and CRLs), GnuTLS (ocsptool --ask, certtool with the CRLs), Go crypto/x509 and
 * Python cryptography CRL parsing with the signature checked (the tenant CRL by the issuing CA, the
 * ARL by the root). Each client finds the responder and CRLs itself where it can (AIA, CDP).
 */
export async function runRevocationClients(dir: string, input: RevocationInput): Promise<RevocationResult[]> {
  const names = Object.keys(input.leaves);
  const files = names.map((n) => input.leaves[n]!);
  // GnuTLS reads CRLs as PEM: the tenant CRL and the ARL apart (--verify-crl) and together (--load-crl).
  const [crlOnly, arlOnly, crlPem] = [join(dir, "crl.pem"), join(dir, "arl.pem"), join(dir, "crls.pem")];
  writeFileSync(crlOnly, derToPem(readFileSync(input.crl), "X509 CRL"));
  writeFileSync(arlOnly, derToPem(readFileSync(input.arl), "X509 CRL"));
  writeFileSync(crlPem, readFileSync(crlOnly, "utf8") + readFileSync(arlOnly, "utf8"));
  // Java prints one line per leaf file, in order.
  const java = async (client: RevocationClient, args: string[]): Promise<RevocationResult> => {
    const r = await run("java", [...args, input.root, input.issuing, ...files]);
    const verdicts: Record<string, string> = {};
    names.forEach((n, i) => {
      const line = r.output.split("\n").find((l) => l.includes(` ${files[i]}`)) ?? `FAIL no line for ${n}`;
      verdicts[n] = line.startsWith("OK ") ? line.slice(`OK ${files[i]} `.length).replace("reason=", "") : line;
    });
    return { client, verdicts, output: r.output };
  };
  const perLeaf = async (client: RevocationClient, ask: (file: string) => Promise<string>): Promise<RevocationResult> => {
    const outs = await Promise.all(files.map(ask));
    return { client, verdicts: Object.fromEntries(names.map((n, i) => [n, outs[i]!])), output: outs.join("\n") };
  };
  const chains = names.map((n, i) => {
    const f = join(dir, `chain-${n}.pem`);
    writeFileSync(f, readFileSync(files[i]!, "utf8") + readFileSync(input.issuing, "utf8"));
    return f;
  });
  const crlLookup = async (client: RevocationClient, cmd: (issuer: string, crl: string, serials: string[]) => Promise<{ ok: boolean; output: string }>): Promise<RevocationResult> => {
    const [crl, arl] = await Promise.all([cmd(input.issuing, input.crl, names.map((n) => input.serials[n]!)), cmd(input.root, input.arl, [])]);
    const verdicts: Record<string, string> = { crl: crl.ok ? "OK" : crl.output.trim(), arl: arl.ok ? "OK" : arl.output.trim() };
    for (const n of names) {
      const line = crl.output.split("\n").find((l) => l.startsWith(`${input.serials[n]} `));
      verdicts[n] = line ? line.slice(input.serials[n]!.length + 1).replace("reason=", "") : `FAIL ${crl.output.trim()}`;
    }
    return { client, verdicts, output: `${crl.output}${arl.output}` };
  };
  return Promise.all([
    java("java-ocsp-get", [join(HERE, "Revocation.java"), "ocsp"]),
    java("java-ocsp-post", ["-Dcom.sun.security.ocsp.useget=false", join(HERE, "Revocation.java"), "ocsp"]),
    java("java-crl", [join(HERE, "Revocation.java"), "crl"]),
    perLeaf("gnutls-ocsptool", async (leaf) => {
      // No URL given: ocsptool asks the responder the leaf's AIA names (POST, SHA-1 CertID).
      const r = await run("ocsptool", ["--ask", "--load-issuer", input.issuing, "--load-cert", leaf]);
      const status = /Certificate Status: (\w+)/.exec(r.output)?.[1];
      return r.ok && status && r.output.includes("Verifying OCSP Response: Success.") ? status : `FAIL ${r.output.trim().split("\n").slice(-3).join(" / ")}`;
    }),
    perLeaf("gnutls-certtool-crl", async (leaf) => {
      const r = await run("certtool", ["--verify", "--load-ca-certificate", input.root, "--load-crl", crlPem, "--infile", chains[files.indexOf(leaf)]!]);
      const out = /Chain verification output: (.*)/.exec(r.output)?.[1] ?? r.output.trim();
      return /Verified\. The certificate is trusted\./.test(out) ? "good" : /The certificate chain is revoked\./.test(out) ? "revoked" : `FAIL ${out}`;
    }).then(async (res) => {
      // Each CRL's own signature (certtool --verify-crl), the tenant CRL by the issuing CA, the ARL by the root.
      const verify = async (ca: string, crl: string) => {
        const r = await run("certtool", ["--verify-crl", "--load-ca-certificate", ca, "--infile", crl]);
        return /Verification output: Verified\./.test(r.output) ? "OK" : `FAIL ${r.output.trim().split("\n").slice(-2).join(" / ")}`;
      };
      const [crl, arl] = await Promise.all([verify(input.issuing, crlOnly), verify(input.root, arlOnly)]);
      return { ...res, verdicts: { ...res.verdicts, crl, arl } };
    }),
    crlLookup("go-x509-crl", (issuer, crl, serials) => run("go", ["run", join(HERE, "crl.go"), issuer, crl, ...serials], goEnv)),
    crlLookup("python-cryptography-crl", (issuer, crl, serials) => run("/usr/bin/python3", [join(HERE, "crl.py"), issuer, crl, ...serials])),
  ]);
}

/**
 * One leaf asked by every OCSP client (Java by GET, GnuTLS ocsptool, Go and Python with SHA-1 and
 * SHA-256 CertIDs), in parallel: one line each, "<client>: <what it concluded>".
 */
export async function askOcspEverywhere(url: string, root: string, issuing: string, leaf: string): Promise<string[]> {
  const [java, gnutls, others] = await Promise.all([
    run("java", [join(HERE, "Revocation.java"), "ocsp", root, issuing, leaf]),
    run("ocsptool", ["--ask", "--load-issuer", issuing, "--load-cert", leaf]),
    runOcspClients(url, issuing, leaf),
  ]);
  const gnutlsStatus = /Certificate Status: (\w+)/.exec(gnutls.output)?.[1];
  // A status-only answer (tryLater) has no certificate status: ocsptool names the response status.
  const gnutlsResponse = /Response Status: (\w+)/.exec(gnutls.output)?.[1] ?? "none";
  return [
    `java-ocsp-get: ${java.output.trim()}`,
    `gnutls-ocsptool: ${gnutls.ok && gnutlsStatus ? `status=${gnutlsStatus}` : `FAIL response=${gnutlsResponse} ${gnutls.output.trim().split("\n").slice(-1)[0]}`}`,
    ...others.map((r) => `${r.client} ${r.hash}: ${r.output.trim()}`),
  ];
}
