import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { randomSerial } from "./records.ts";

const run = promisify(execFile);
const DAY_MS = 86_400_000;

export interface OpensslCa {
  dir: string;
  /** Leaf serials (lowercase hex) and the status index.txt gives each. */
  leaves: { serial: string; status: "good" | "revoked" }[];
  /** One DER OCSP request per leaf, same order as `leaves`. */
  requests: Uint8Array[];
}

// A minimal config, so `openssl req` adds exactly these extensions and none from the system openssl.cnf.
const CONFIG = `[req]
distinguished_name = dn
prompt = no
[dn]
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign,digitalSignature
subjectKeyIdentifier = hash
[leaf_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

/** YYMMDDHHMMSSZ, the time format of openssl's CA database (index.txt). */
function caDbTime(ms: number): string {
  return new Date(ms).toISOString().replace(/^\d\d(\d\d)-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d).*$/, "$1$2$3$4$5$6Z");
}

async function inParallel<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) await fn(items[next++] as T);
  }));
}

/**
 * A throwaway two-level RSA-2048 CA (root → issuing, like the origin's), `count` leaves issued by
 * the issuing CA, an index.txt with every `revokedEvery`-th leaf revoked, and prebuilt OCSP
 * requests. Leaf keys are P-256 to keep issuance quick: the leaf key plays no part in OCSP.
 */
export async function buildOpensslCa(dir: string, count: number, revokedEvery: number): Promise<OpensslCa> {
  const cnf = join(dir, "openssl.cnf");
  writeFileSync(cnf, CONFIG);
  const f = (name: string) => join(dir, name);
  await run("openssl", ["req", "-config", cnf, "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f("root.key"), "-out", f("root.pem"),
    "-subj", "/CN=Bench Verify Root", "-days", "30", "-extensions", "ca_ext"]);
  await run("openssl", ["req", "-config", cnf, "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", f("issuing.key"), "-out", f("issuing.csr"),
    "-subj", "/CN=Bench Verify Issuing"]);
  await run("openssl", ["x509", "-req", "-in", f("issuing.csr"), "-CA", f("root.pem"), "-CAkey", f("root.key"), "-set_serial", "0x01",
    "-days", "30", "-extfile", cnf, "-extensions", "ca_ext", "-out", f("issuing.pem")]);

  const leaves = Array.from({ length: count }, (_, i) => ({ i, serial: randomSerial(), status: (i % revokedEvery === revokedEvery - 1 ? "revoked" : "good") as "good" | "revoked" }));
  await inParallel(leaves, 4, async ({ i, serial }) => {
    await run("openssl", ["req", "-config", cnf, "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
      "-keyout", f(`leaf-${i}.key`), "-out", f(`leaf-${i}.pem`), "-subj", `/CN=bench-leaf-${i}`,
      "-CA", f("issuing.pem"), "-CAkey", f("issuing.key"), "-set_serial", `0x${serial}`, "-days", "30", "-extensions", "leaf_ext"]);
  });
  // Check one leaf really carries the serial we put in index.txt (openssl prints it upper case).
  const probe = await run("openssl", ["x509", "-in", f("leaf-0.pem"), "-noout", "-serial"]);
  if (probe.stdout.trim().toLowerCase() !== `serial=${leaves[0]?.serial}`) throw new Error(`leaf-0 serial mismatch: ${probe.stdout}`);

  const now = Date.now();
  const expiry = caDbTime(now + 30 * DAY_MS);
  const lines = leaves.map(({ i, serial, status }) =>
    status === "revoked"
      ? `R\t${expiry}\t${caDbTime(now)},keyCompromise\t${serial.toUpperCase()}\tunknown\t/CN=bench-leaf-${i}`
      : `V\t${expiry}\t\t${serial.toUpperCase()}\tunknown\t/CN=bench-leaf-${i}`);
  writeFileSync(f("index.txt"), lines.join("\n") + "\n");

  return { dir, leaves: leaves.map(({ serial, status }) => ({ serial, status })), requests: await buildRequests(dir, leaves.map((l) => l.serial)) };
}

/**
 * openssl writes one request (SHA-1 CertID, no nonce); the others differ only in the 16 serial
 * bytes, which sit at the same offset because every serial is 16 bytes without sign padding.
 */
async function buildRequests(dir: string, serials: readonly string[]): Promise<Uint8Array[]> {
  const first = serials[0];
  if (!first) return [];
  const out = join(dir, "template-req.der");
  await run("openssl", ["ocsp", "-issuer", join(dir, "issuing.pem"), "-serial", `0x${first}`, "-no_nonce", "-reqout", out]);
  const template = readFileSync(out);
  const marker = Buffer.concat([Buffer.from([0x02, 0x10]), Buffer.from(first, "hex")]);
  const at = template.indexOf(marker);
  if (at < 0 || template.indexOf(marker, at + 1) >= 0) throw new Error("serial not found exactly once in the OCSP request template");
  return serials.map((serial) => {
    const req = Buffer.from(template);
    Buffer.from(serial, "hex").copy(req, at + 2);
    return new Uint8Array(req);
  });
}
