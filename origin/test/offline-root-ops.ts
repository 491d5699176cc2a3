import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** openssl with stdout and stderr together; throws with both when it fails and `check` is set. */
export function openssl(args: string[], o: { check?: boolean; input?: string } = {}): { ok: boolean; out: string } {
  const r = spawnSync("openssl", args, { encoding: "utf8", input: o.input });
  const res = { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
  if (o.check !== false && !res.ok) throw new Error(`openssl ${args.join(" ")}:\n${res.out}`);
  return res;
}

/**
 * The operator's offline machine, for tests: an RSA root made with openssl whose key stays in
 * `dir` (Kakunin is only ever given root.pem), and the openssl commands docs/ca-lifecycle.md
 * gives for signing an issuing-CA CSR and the root's CRL.
 */
export class OfflineRoot {
  readonly pem: string;
  readonly certFile: string;
  private readonly keyFile: string;

  constructor(
    private readonly dir: string,
    private readonly name = "root",
    subject = "/O=Kakunin Offline Test/CN=Offline Root CA",
    days = 7300,
  ) {
    this.keyFile = join(dir, `${name}.key`);
    this.certFile = join(dir, `${name}.pem`);
    openssl([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      this.keyFile,
      "-out",
      this.certFile,
      "-days",
      String(days),
      "-sha256",
      "-subj",
      subject,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    this.pem = readFileSync(this.certFile, "utf8");
    writeFileSync(join(dir, `${name}-index.txt`), "");
    writeFileSync(join(dir, `${name}-crlnumber`), "1000\n");
    writeFileSync(
      join(dir, `${name}-ca.cnf`),
      [
        "[ca]",
        "default_ca = root",
        "[root]",
        `database = ${join(dir, `${name}-index.txt`)}`,
        `crlnumber = ${join(dir, `${name}-crlnumber`)}`,
        `certificate = ${this.certFile}`,
        `private_key = ${this.keyFile}`,
        "default_md = sha256",
        "default_crl_days = 30",
        "",
      ].join("\n"),
    );
  }

  /**
   * `openssl x509 -req` over a CSR: by default with the request's extensions (the issuing profile
   * Kakunin asked for) and a random 16-octet serial, as docs/ca-lifecycle.md says to sign it.
   */
  sign(csrPem: string, o: { days?: number; copyExtensions?: boolean; extfile?: string } = {}): string {
    const n = `${this.name}-${Math.random().toString(36).slice(2)}`;
    const csr = join(this.dir, `${n}.csr`);
    const out = join(this.dir, `${n}.pem`);
    writeFileSync(csr, csrPem);
    const ext: string[] = [];
    if (o.extfile !== undefined) {
      writeFileSync(join(this.dir, `${n}.ext`), `[v3]\n${o.extfile}\n`);
      ext.push("-extfile", join(this.dir, `${n}.ext`), "-extensions", "v3");
    }
    if (o.copyExtensions !== false) ext.push("-copy_extensions", "copyall");
    const serial = `0x4${[...crypto.getRandomValues(new Uint8Array(15))].map((b) => b.toString(16).padStart(2, "0")).join("")}0`;
    openssl([
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      this.certFile,
      "-CAkey",
      this.keyFile,
      "-set_serial",
      serial,
      "-days",
      String(o.days ?? 1825),
      "-sha256",
      ...ext,
      "-out",
      out,
    ]);
    return readFileSync(out, "utf8");
  }

  /** `openssl ca -gencrl`: the root's CRL (ARL), CRL number from the crlnumber file; optionally revoking a CA first. */
  crl(o: { revoke?: string } = {}): string {
    const cnf = join(this.dir, `${this.name}-ca.cnf`);
    if (o.revoke) {
      const f = join(this.dir, `${this.name}-revoke.pem`);
      writeFileSync(f, o.revoke);
      openssl(["ca", "-config", cnf, "-revoke", f, "-crl_reason", "keyCompromise"]);
    }
    const out = join(this.dir, `${this.name}-arl-${Math.random().toString(36).slice(2)}.pem`);
    openssl(["ca", "-config", cnf, "-gencrl", "-out", out]);
    return readFileSync(out, "utf8");
  }
}
