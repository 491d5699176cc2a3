/**
 * Check b: the certificates in the bundle form one chain to a PINNED root. Root self-signed and
 * equal to the root the verifier trusts (`--root`, or the one `kakunin init` saved): without one
 * the check fails, since anyone can make a self-signed root. Issuing CA signed by the root, a CA,
 * and naming the bundle's tenant or, without the binding, a Kakunin issuing CA by its subject;
 * every agent certificate signed by the issuing CA; the tree-head signer an audit certificate
 * (audit EKU, not a CA, not an agent) of the issuing CA, bound to the bundle's tenant id.
 */
import { createHash } from "node:crypto";
import type { KakuninOids } from "@kakunin/shared";
import { bindingProblems, hasAuditEku, isCa, sanUris, tenantNaming, unboundIssuerProblem } from "./binding.ts";
import { normalizeSerial, parseCertificate, signedBy, signedByOneOf, splitPem, type x509 } from "../x509.ts";
import type { Bundle, CheckResult, Failure, TrustAnchor } from "./types.ts";
import { fmt } from "./fmt.ts";

export interface ChainOutcome {
  result: CheckResult;
  anchor: TrustAnchor | null;
  /** Agent certificates by normalised serial; only those that parsed. */
  agentCerts: Map<string, x509.X509Certificate>;
  signer: x509.X509Certificate | null;
  /** The issuing CA, when it parsed: its subject O= names the tenant (check "header"). */
  issuing: x509.X509Certificate | null;
  /** The issuing CA and every earlier one that checked out (root-signed CAs of this tenant). */
  issuers: x509.X509Certificate[];
}


function fingerprint(cert: x509.X509Certificate): string {
  return createHash("sha256").update(new Uint8Array(cert.rawData)).digest("hex").toUpperCase().match(/../g)!.join(":");
}

function sameDer(a: x509.X509Certificate, b: x509.X509Certificate): boolean {
  return Buffer.from(a.rawData).equals(Buffer.from(b.rawData));
}

export async function checkChain(b: Bundle, rootPem: string | undefined, oids: KakuninOids, rootSource = "--root"): Promise<ChainOutcome> {
  const failures: Failure[] = [];
  const notes: string[] = [];
  const agentCerts = new Map<string, x509.X509Certificate>();
  const fail = (subject: string, ...reasons: string[]) => failures.push({ subject, reasons });
  let issuingCa: x509.X509Certificate | null = null;
  const issuers: x509.X509Certificate[] = [];
  const result = (summary: string, anchor: TrustAnchor | null, signer: x509.X509Certificate | null): ChainOutcome => ({
    result: { id: "chain", title: "CA chain", status: failures.length ? "fail" : "pass", summary, failures, notes }, anchor, agentCerts, signer, issuing: issuingCa, issuers,
  });

  // ca_chain_pem is issuing CA then root.
  const pems = splitPem(b.ca_chain_pem);
  if (pems.length < 2) {
    fail("ca_chain_pem", `expected the issuing CA then the root CA, found ${pems.length} certificate(s)`);
    return result("ca_chain_pem does not hold an issuing CA and a root", null, null);
  }
  const issuing = parseCertificate(pems[0]!);
  const root = parseCertificate(pems[pems.length - 1]!);
  if (typeof issuing === "string") fail("issuing CA", `cannot parse: ${issuing}`);
  if (typeof root === "string") fail("root CA", `cannot parse: ${root}`);
  if (typeof issuing === "string" || typeof root === "string") return result("ca_chain_pem does not parse", null, null);
  issuingCa = issuing;

  if (!(await signedBy(root))) fail("root CA", `${root.subject} is not self-signed`);
  const anchor: TrustAnchor = { subject: root.subject, sha256: fingerprint(root), pinned: false };
  if (rootPem !== undefined) {
    const pinned = parseCertificate(splitPem(rootPem)[0] ?? rootPem);
    if (typeof pinned === "string") fail("--root", `cannot parse the given root: ${pinned}`);
    else if (!sameDer(pinned, root)) fail("root CA", `the bundle's root (SHA-256 ${anchor.sha256}) is not the given ${rootSource} (SHA-256 ${fingerprint(pinned)})`);
    else anchor.pinned = true;
  }
  if (anchor.pinned) notes.push(`trust anchor: ${anchor.subject}, SHA-256 ${anchor.sha256} (matches ${rootSource})`);
  else if (rootPem === undefined) {
    fail("trust anchor", `trust anchor not pinned: the bundle brings its own root ${anchor.subject}, SHA-256 ${anchor.sha256}, and anyone can make a self-signed root. ` +
      "Compare that fingerprint with your Kakunin root CA (GET /v1/ca) and pass --root root.pem, or run `kakunin init`, which saves the origin's root");
  }
  if (!(await signedBy(issuing, root))) fail("issuing CA", `${issuing.subject} is not signed by the root CA`);
  // Any certificate the root signed verifies as "signed by the root": the issuing CA must also be a
  // CA of this tenant (bound to it, or by its subject one Kakunin made before the binding existed).
  if (!isCa(issuing)) fail("issuing CA", "it is not a CA certificate");
  const issuingBinding = bindingProblems(issuing, oids, b.tenant.id, false);
  const unbound = unboundIssuerProblem(issuing, oids);
  if (issuingBinding.length) fail("issuing CA", ...issuingBinding);
  else if (unbound) fail("issuing CA", unbound);
  else if (tenantNaming(issuing, oids).extension === null) {
    notes.push(`the issuing CA predates the tenant binding (no ${oids.tenantExtension} extension): the tenant is proven by the audit certificate alone until the issuing CA is rolled over`);
  }

  // Rolled-over issuing CAs: each must be a CA the root signed, bound to this tenant. A certificate
  // issued before a rollover chains to one of them (and the current issuing CA signs nothing older).
  issuers.push(issuing);
  for (const [i, pem] of splitPem(b.earlier_issuers_pem ?? "").entries()) {
    const subject = `earlier issuing CA ${i + 1}`;
    const ca = parseCertificate(pem);
    if (typeof ca === "string") {
      fail(subject, `cannot parse: ${ca}`);
      continue;
    }
    const reasons: string[] = [];
    if (!isCa(ca)) reasons.push("it is not a CA certificate");
    const isRoot = sameDer(ca, root) || (await signedBy(ca));
    if (isRoot) reasons.push("it is a root (self-signed), not an issuing CA");
    else if (!(await signedBy(ca, root))) reasons.push(`${ca.subject} is not signed by the root CA`);
    reasons.push(...bindingProblems(ca, oids, b.tenant.id, false));
    const unboundCa = isRoot ? null : unboundIssuerProblem(ca, oids);
    if (unboundCa) reasons.push(unboundCa);
    if (reasons.length) failures.push({ subject, reasons });
    else issuers.push(ca);
  }
  if (issuers.length > 1) notes.push(`${fmt(issuers.length - 1)} earlier issuing CA${issuers.length === 2 ? "" : "s"} of the tenant (rolled over), signed by the root`);

  let agentOk = 0;
  for (const c of b.certificates) {
    const cert = parseCertificate(c.certificate_pem);
    const subject = `certificate ${c.serial_number}`;
    if (typeof cert === "string") {
      fail(subject, `cannot parse: ${cert}`);
      continue;
    }
    const reasons: string[] = [];
    if (normalizeSerial(cert.serialNumber) !== normalizeSerial(c.serial_number)) reasons.push(`the X.509 serial is ${cert.serialNumber}, not ${c.serial_number}`);
    if (!(await signedByOneOf(cert, issuers))) reasons.push(issuers.length > 1 ? "not signed by the issuing CA or an earlier one" : "not signed by the issuing CA");
    if (reasons.length) failures.push({ subject, reasons });
    else agentOk++;
    // Kept even when broken: the validity check then names the events that depended on it.
    agentCerts.set(normalizeSerial(c.serial_number), cert);
  }

  const signerCert = parseCertificate(b.tree_head.signer_certificate_pem);
  let signer: x509.X509Certificate | null = null;
  if (typeof signerCert === "string") fail("tree-head signer certificate", `cannot parse: ${signerCert}`);
  else {
    signer = signerCert;
    const reasons: string[] = [];
    if (!(await signedBy(signerCert, issuing))) reasons.push("not signed by the issuing CA");
    if (!hasAuditEku(signerCert, oids)) {
      reasons.push(`not an audit certificate: its extended key usage lacks the audit EKU ${oids.ekuAuditTreeHeadSigning} (agent keys and other certificates never sign tree heads; a different OID arc? see --oid-arc)`);
    }
    if (isCa(signerCert)) reasons.push("it is a CA certificate, not an audit certificate");
    if (sanUris(signerCert).some((u) => u.startsWith("urn:kakunin:agent:"))) reasons.push("it is an agent certificate (SAN urn:kakunin:agent:…)");
    reasons.push(...bindingProblems(signerCert, oids, b.tenant.id, true));
    if (reasons.length) failures.push({ subject: "tree-head signer certificate", reasons });
  }

  const n = b.certificates.length;
  const summary = failures.length
    ? `${fmt(failures.length)} problem${failures.length === 1 ? "" : "s"} (${fmt(agentOk)} of ${fmt(n)} agent certificates chain to the issuing CA)`
    : `root pinned, issuing CA signed by root, ${fmt(n)} agent certificate${n === 1 ? "" : "s"} and the audit certificate signed by the issuing CA, audit certificate bound to tenant ${b.tenant.id}`;
  return result(summary, anchor, signer);
}
