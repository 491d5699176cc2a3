import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
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
