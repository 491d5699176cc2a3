import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Runs the system openssl on PEM inputs written to a temp dir; returns stdout (throws on exit ≠ 0). */
function withFiles<T>(files: Record<string, string>, fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-openssl-"));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `openssl verify -x509_strict` of `leafPem` against a root, with the issuing CA as untrusted intermediate. */
export function opensslVerify(rootPem: string, leafPem: string, intermediatePem?: string, extra: string[] = []): { ok: boolean; output: string } {
  return withFiles({ "root.pem": rootPem, "leaf.pem": leafPem, "int.pem": intermediatePem ?? "" }, (dir) => {
    const args = ["verify", "-x509_strict", ...extra, "-CAfile", join(dir, "root.pem")];
    if (intermediatePem) args.push("-untrusted", join(dir, "int.pem"));
    args.push(join(dir, "leaf.pem"));
    try {
      return { ok: true, output: execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      return { ok: false, output: `${err.stdout ?? ""}${err.stderr ?? ""}` };
    }
  });
}

export function opensslText(pem: string): string {
  return withFiles({ "c.pem": pem }, (dir) =>
    execFileSync("openssl", ["x509", "-in", join(dir, "c.pem"), "-noout", "-text", "-nameopt", "RFC2253"], { encoding: "utf8" }));
}

export function opensslSerial(pem: string): string {
  return withFiles({ "c.pem": pem }, (dir) =>
    execFileSync("openssl", ["x509", "-in", join(dir, "c.pem"), "-noout", "-serial"], { encoding: "utf8" })).trim();
}

/** Split a PEM bundle into its certificates. */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g) ?? [];
}
