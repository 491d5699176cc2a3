import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { certificates } from "../src/db/schema.ts";
import { retiredIssuersPastLastExpiry } from "../src/lifecycle/retired-issuers.ts";
import { keyManagerSigners } from "../src/publish/signers.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";
import { opensslText, opensslVerify, splitPem } from "./openssl.ts";

interface Issued { id: string; serial_number: string; certificate_pem: string }
interface Authority { serial_number: string; subject: string; certificate_pem: string }

/** openssl with stdout and stderr together (`crl -verify` reports on stderr). */
function sh(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/**
 * Issuing-CA rollover: agents certified before and after both chain to the root (each through its
 * own issuing CA), each CA signs the CRL and OCSP of its own certificates, and a concurrent
 * rollover never leaves two active CAs.
 */
describe.each(dbKinds())("issuing CA rollover on %s", (kind) => {
  let o: TestOrigin;
  let dir: string;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
    dir = mkdtempSync(join(tmpdir(), "kakunin-rollover-"));
  });
  afterAll(async () => {
    await o.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const certified = async (): Promise<Issued> => {
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const r = await o.json<{ data: Issued }>("POST", `/v1/agents/${id}/certify`);
    expect(r.status).toBe(201);
    return r.body.data;
  };
  const chain = async () => splitPem((await o.json<{ data: { chain_pem: string } }>("GET", "/v1/ca")).body.data.chain_pem);

  it("agents before and after verify through their own CA; CRLs and OCSP come from the right CA", async () => {
    const before = await certified();
    const [oldIssuing, root] = await chain();
    const r = await o.json<{ data: { current: Authority; previous: Authority } }>("POST", "/v1/tenant/ca/rollover");
    expect(r.status).toBe(201);
    expect(r.body.data.previous.certificate_pem).toBe(oldIssuing);
    expect(r.body.data.current.subject).toMatch(/Kakunin Issuing CA default G2/);
    const [newIssuing, sameRoot] = await chain();
    expect(newIssuing).toBe(r.body.data.current.certificate_pem);
    expect(sameRoot).toBe(root);
    const after = await certified();
    expect(opensslText(after.certificate_pem)).toContain(`/v1/crl/`);

    // Each agent verifies through its own issuing CA, not through the other one.
    expect(opensslVerify(root!, before.certificate_pem, oldIssuing).ok).toBe(true);
    expect(opensslVerify(root!, after.certificate_pem, newIssuing).ok).toBe(true);
    expect(opensslVerify(root!, before.certificate_pem, newIssuing).ok).toBe(false);
    expect(opensslVerify(root!, newIssuing!, undefined, ["-x509_strict"]).ok).toBe(true);

    for (const c of [before, after]) {
      expect((await o.json("POST", `/v1/certificates/${c.id}/revoke`, { body: { reason: "rollover test", reason_code: "keyCompromise" } })).status).toBe(200);
    }
    const tenant = (await o.json<{ data: { id: string; name: string } }>("GET", "/v1/tenant")).body.data;
    // Each issuer's CRL at its own URL (partition CRLs, docs/crl-ocsp.md, are checked in test/crl-partitions.e2e.test.ts).
    const crls = (await keyManagerSigners(o.services).crl(tenant))?.filter((c) => c.partition === undefined);
    expect(crls?.map((c) => c.active)).toEqual([true, false]);
    const bySerial = new Map(crls!.map((c) => [c.issuerSerial, c]));
    const oldCrl = bySerial.get(r.body.data.previous.serial_number)!;
    const newCrl = bySerial.get(r.body.data.current.serial_number)!;
    const f = (n: string, content: string | Uint8Array) => { writeFileSync(join(dir, n), content); return join(dir, n); };
    f("root.pem", root!);
    f("old.pem", oldIssuing!);
    f("new.pem", newIssuing!);
    f("before.pem", before.certificate_pem);
    f("after.pem", after.certificate_pem);
    f("old-crl.der", oldCrl.der);
    f("new-crl.der", newCrl.der);
    const text = (n: string) => sh(["crl", "-inform", "DER", "-in", join(dir, n), "-noout", "-text"]).out.toUpperCase();
    // Each revocation appears in the CRL of the CA that issued it, and only there.
    expect(text("old-crl.der")).toContain(before.serial_number.toUpperCase());
    expect(text("old-crl.der")).not.toContain(after.serial_number.toUpperCase());
    expect(text("new-crl.der")).toContain(after.serial_number.toUpperCase());
    expect(text("new-crl.der")).not.toContain(before.serial_number.toUpperCase());
    expect(sh(["crl", "-inform", "DER", "-in", join(dir, "old-crl.der"), "-CAfile", join(dir, "old.pem"), "-noout"]).out).toContain("verify OK");
    expect(sh(["crl", "-inform", "DER", "-in", join(dir, "new-crl.der"), "-CAfile", join(dir, "new.pem"), "-noout"]).out).toContain("verify OK");
    for (const [leaf, issuing, crl] of [["before.pem", "old.pem", "old-crl.der"], ["after.pem", "new.pem", "new-crl.der"]] as const) {
      sh(["crl", "-inform", "DER", "-in", join(dir, crl), "-out", join(dir, `${crl}.pem`)]);
      const v = sh(["verify", "-crl_check", "-CRLfile", join(dir, `${crl}.pem`), "-CAfile", join(dir, "root.pem"), "-untrusted", join(dir, issuing), join(dir, leaf)]);
      expect(v.out, leaf).toContain("certificate revoked");
    }

    // OCSP for the pre-rollover certificate is signed by the retired CA and verifies against it.
    const [row] = await o.services.db.select().from(certificates).where(eq(certificates.id, before.id));
    const ocsp = await keyManagerSigners(o.services).ocsp(row!);
    f("before-ocsp.der", ocsp!.sha1);
    const check = sh(["ocsp", "-respin", join(dir, "before-ocsp.der"), "-issuer", join(dir, "old.pem"), "-cert", join(dir, "before.pem"), "-CAfile", join(dir, "root.pem"), "-no_nonce"]);
    expect(check.out).toContain("Response verify OK");
    expect(check.out).toMatch(/before\.pem: revoked/);
  });

  it("a retired CA is due for key deletion only after its last certificate expires", async () => {
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data;
    const retired = (await o.services.ca.issuersOf(tenant.id)).filter((i) => i.record.status === "retired");
    expect(retired.length).toBeGreaterThan(0);
    const ids = async (at: Date) => (await retiredIssuersPastLastExpiry(o.services.db, at)).map((r) => r.id);
    // Its certificates (from the first test) are unexpired now: not due.
    expect(await ids(new Date())).not.toContain(retired[0]!.record.id);
    // Past every agent certificate's notAfter (365 days): due; the active CA never is.
    const later = await ids(new Date(Date.now() + 400 * 86_400_000));
    expect(later).toContain(retired[0]!.record.id);
    const active = (await o.services.ca.issuersOf(tenant.id)).find((i) => i.record.status === "active")!;
    expect(later).not.toContain(active.record.id);
  });

  it("two concurrent rollovers: one 201, one 409, and exactly one active issuing CA", async () => {
    const [a, b] = await Promise.all([o.json("POST", "/v1/tenant/ca/rollover"), o.json("POST", "/v1/tenant/ca/rollover")]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.res.headers.get("content-type")).toContain("application/problem+json");
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data;
    const issuers = await o.services.ca.issuersOf(tenant.id);
    expect(issuers.filter((i) => i.record.status === "active")).toHaveLength(1);
    // And the one GET /v1/ca names is that active one.
    const [issuing] = await chain();
    expect(issuing).toBe(issuers[0]!.record.certificatePem);
  });
});
