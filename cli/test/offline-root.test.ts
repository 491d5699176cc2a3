import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody } from "../../origin/test/harness.ts";
import { OfflineRoot, openssl } from "../../origin/test/offline-root-ops.ts";
import { pollUntil, startSystem, systemFixture, type RunningSystem } from "../../test/support/system.ts";
import { kakunin, type Run } from "./support/run.ts";

/**
 * Offline-root mode as an operator runs it (docs/ca-lifecycle.md): a real origin started with
 * KAKUNIN_ROOT_CERT_FILE and a real edge; `kakunin ca csr`, openssl on the "offline machine",
 * `kakunin ca import`, `kakunin ca root-crl`; then openssl finds every CRL of the chain through
 * the certificates' own CDPs at the edge, the root's being the one signed offline.
 */
describe("kakunin ca csr / import / root-crl against a running system with an offline root", () => {
  const fx = systemFixture();
  const dir = mkdtempSync(join(tmpdir(), "kakunin-cli-offline-root-"));
  const root = new OfflineRoot(dir);
  let sys: RunningSystem;
  let env: Record<string, string> = {};
  const cli = (...args: string[]) => kakunin(env, ...args);
  const expectExit = (r: Run, code: number) => expect(r.code, `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(code);
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sys.origin.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${fx.adminKey}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as { data: Record<string, string> } };
  };
  beforeAll(async () => {
    sys = await startSystem(fx, { KAKUNIN_ROOT_CERT_FILE: root.certFile });
    env = { KAKUNIN_CONFIG: join(dir, "config.json"), KAKUNIN_ORIGIN_URL: sys.origin.url, KAKUNIN_EDGE_URL: sys.edge.url, KAKUNIN_API_KEY: fx.adminKey };
  }, 120_000);
  afterAll(async () => {
    await sys?.stop();
    fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it("csr, sign offline, import, certify; the uploaded root CRL is what the edge serves and openssl checks", async () => {
    expectExit(await cli("ca", "rollover"), 3); // 409: an offline root rolls over by CSR
    const csrFile = join(dir, "ca.csr");
    expectExit(await cli("ca", "csr", "--out", csrFile), 0);
    const issuing = root.sign(readFileSync(csrFile, "utf8"));
    const forged = new OfflineRoot(dir, "forger", "/O=Kakunin Offline Test/CN=Offline Root CA").sign(readFileSync(csrFile, "utf8"));
    writeFileSync(join(dir, "forged.pem"), forged);
    const refused = await cli("ca", "import", join(dir, "forged.pem"));
    expectExit(refused, 3);
    expect(refused.stderr).toContain("signature");
    writeFileSync(join(dir, "ca.pem"), issuing);
    const imported = await cli("ca", "import", join(dir, "ca.pem"));
    expectExit(imported, 0);
    expect(imported.stdout).toContain("Kakunin Issuing CA");
    expectExit(await cli("ca", "import", join(dir, "ca.pem")), 0); // again: a no-op

    const agent = await api("POST", "/v1/agents", agentBody());
    const leafFile = join(dir, "agent.pem");
    expectExit(await cli("certify", agent.body.data.id!, "--out", leafFile), 0);
    const serial = openssl(["x509", "-in", leafFile, "-noout", "-serial"]).out.split("=")[1]!.trim().toLowerCase();
    await pollUntil(async () => ((await fetch(`${sys.edge.url}/v1/verify/${serial}`)).status === 200 ? true : undefined), 20_000, 200);

    writeFileSync(join(dir, "arl.pem"), root.crl());
    const up = await cli("ca", "root-crl", join(dir, "arl.pem"), "--json");
    expectExit(up, 0);
    expect(JSON.parse(up.stdout).crl_number).toBe(String(0x1000));
    openssl(["crl", "-in", join(dir, "arl.pem"), "-outform", "DER", "-out", join(dir, "arl.der")]);
    const uploaded = readFileSync(join(dir, "arl.der"));
    const served = await pollUntil(
      async () => {
        const res = await fetch(`${sys.edge.url}/v1/crl/root`);
        const der = res.ok ? Buffer.from(await res.arrayBuffer()) : undefined;
        return der?.equals(uploaded) ? der : undefined;
      },
      20_000,
      200,
    );
    expect(served.value.equals(uploaded)).toBe(true);
    // openssl finds each CRL through the certificate's own CDP at the edge: the agent's (signed by
    // the imported CA in the KMS) and the issuing CA's (the root CRL signed offline).
    const verify = (leaf: string) =>
      openssl(["verify", "-x509_strict", "-crl_download", "-crl_check", "-CAfile", root.certFile, "-untrusted", join(dir, "ca.pem"), leaf], { check: false })
        .out;
    expect(verify(leafFile)).toContain(`${leafFile}: OK`);
    expect(verify(join(dir, "ca.pem"))).toContain("ca.pem: OK");
    expectExit(await cli("ca", "root-crl", join(dir, "arl.pem")), 0); // the same one again: a no-op
    // The operator revokes the issuing CA offline; the new root CRL reaches relying parties.
    writeFileSync(join(dir, "arl2.pem"), root.crl({ revoke: issuing }));
    expectExit(await cli("ca", "root-crl", join(dir, "arl2.pem")), 0);
    const revoked = await pollUntil(
      async () => {
        const out = verify(join(dir, "ca.pem"));
        return /certificate revoked/.test(out) ? out : undefined;
      },
      20_000,
      250,
    );
    expect(revoked.value).toContain("certificate revoked");
    // The older root CRL cannot come back.
    const stale = await cli("ca", "root-crl", join(dir, "arl.pem"));
    expectExit(stale, 3);
    expect(stale.stderr).toContain("not above");
  }, 300_000);
});
