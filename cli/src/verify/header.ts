/**
 * Check "header agrees with the signed entries": the bundle's `agent`, `tenant.name` and
 * `certificates` are not signed, so each fact they state is compared with its signed source and a
 * disagreement fails, naming the field. Sources: the agent from its agent.created and
 * agent.updated entries; each certificate's id, issue time, status, revocation from its
 * certificate.* entries and its expiry from the X.509 itself (status as of the signed tree head's
 * time); the tenant's name from the issuing CA's subject O=. What nothing signs (the agent's
 * status, created_at…) is not checked here; the report labels it.
 */
import { createHash } from "node:crypto";
import { normalizeSerial, type x509 } from "../x509.ts";
import { FailureList } from "./failures.ts";
import { fmt } from "./fmt.ts";
import { issuedAtOf, sameJson, statusAt, type SignedFacts } from "./signed-facts.ts";
import type { Bundle, CheckResult } from "./types.ts";

export const HEADER_TITLE = "header agrees with the signed entries";

/** The subject's O= of a certificate, or null when it has none. */
export function organizationOf(cert: x509.X509Certificate | null): string | null {
  return cert?.subjectName.getField("O")[0] ?? null;
}

const shown = (v: unknown): string => (v === undefined ? "nothing" : JSON.stringify(v));
const sameTime = (a: string | null, b: number | null): boolean => (a === null ? b === null : b !== null && Date.parse(a) === b);

export function checkHeader(b: Bundle, facts: SignedFacts, issuing: x509.X509Certificate | null, agentCerts: Map<string, x509.X509Certificate>): CheckResult {
  const f = new FailureList();
  const notes: string[] = [];
  const differs = (field: string, header: unknown, signed: unknown, source: string) =>
    f.add({ subject: field, reasons: [`the header says ${shown(header)}, but ${source} says ${shown(signed)}`] });

  const urn = `urn:kakunin:agent:${b.agent.id}`;
  if (b.agent.urn !== undefined && b.agent.urn !== urn) differs("agent.urn", b.agent.urn, urn, "the agent id the signed entries are about");
  const a = facts.agent;
  if (a) {
    const source = `the signed agent.created/agent.updated entries (${a.from.join(", ")})`;
    if (b.agent.name !== a.name) differs("agent.name", b.agent.name, a.name, source);
    if (!sameJson(b.agent.model, a.model)) differs("agent.model", b.agent.model, a.model, source);
    if (!sameJson(b.agent.owner, a.owner)) differs("agent.owner", b.agent.owner, a.owner, source);
    if (!sameJson(b.agent.scopes, a.scopes)) differs("agent.scopes", b.agent.scopes, a.scopes, source);
  } else notes.push("the bundle holds no agent.created entry (the agent predates it): the agent's name, owner, model and scopes are not verified");

  const org = organizationOf(issuing);
  if (org !== null && b.tenant.name !== org) differs("tenant.name", b.tenant.name, org, "the issuing CA's subject (O=)");

  const asOf = Date.parse(b.tree_head.timestamp);
  const listed = new Set<string>();
  b.certificates.forEach((c, i) => {
    const at = `certificates[${i}]`;
    const signed = facts.certificate(c.serial_number);
    listed.add(normalizeSerial(c.serial_number));
    if (!signed) {
      f.add({ subject: at, reasons: [`certificate ${c.serial_number} has no certificate.issued entry in the bundle: nothing signed says it is this agent's`] });
      return;
    }
    const src = `entry ${signed.issuedEntry} and the certificate entries after it`;
    const cert = agentCerts.get(normalizeSerial(c.serial_number));
    const notAfter = cert ? cert.notAfter.getTime() : NaN;
    // The serial alone does not name a certificate: the issuance signs its SHA-256, so another
    // certificate under the same serial (other dates, another key) cannot stand in for it.
    const digest = cert ? createHash("sha256").update(new Uint8Array(cert.rawData)).digest("hex") : null;
    if (digest !== null && signed.sha256 !== null && digest !== signed.sha256.toLowerCase())
      differs(
        `${at}.certificate_pem`,
        `a certificate with SHA-256 ${digest}`,
        `the certificate with SHA-256 ${signed.sha256}`,
        `entry ${signed.issuedEntry} (certificate.issued)`,
      );
    if (cert && !sameTime(c.expires_at, notAfter)) differs(`${at}.expires_at`, c.expires_at, cert.notAfter.toISOString(), "the X.509 notAfter");
    const issued = issuedAtOf(signed);
    if (!sameTime(c.issued_at, issued))
      differs(`${at}.issued_at`, c.issued_at, new Date(issued).toISOString(), `entry ${signed.issuedEntry} (certificate.issued)`);
    if (cert) {
      const status = statusAt(signed, notAfter, asOf);
      if (c.status !== status) differs(`${at}.status`, c.status, status, `${src}, at the signed tree head's time ${b.tree_head.timestamp},`);
    }
    const revokedAt = signed.revokedAt === null ? null : Date.parse(signed.revokedAt);
    if (!sameTime(c.revoked_at, revokedAt)) differs(`${at}.revoked_at`, c.revoked_at, signed.revokedAt, src);
    if (c.revocation_reason !== signed.revocationReason) differs(`${at}.revocation_reason`, c.revocation_reason, signed.revocationReason, src);
  });
  for (const c of facts.certificates.values()) {
    if (!listed.has(normalizeSerial(c.serial)))
      f.add({ subject: "certificates", reasons: [`certificate ${c.serial} issued to the agent (entry ${c.issuedEntry}) is not in certificates`] });
  }

  const n = b.certificates.length;
  const summary = f.total
    ? `${fmt(f.total)} field${f.total === 1 ? "" : "s"} of the unsigned header disagree${f.total === 1 ? "s" : ""} with what is signed`
    : `agent${a ? " name, owner, model and scopes" : ""}, tenant ${org === null ? "id" : "name"} and ${fmt(n)} certificate${n === 1 ? "" : "s"} (status as of the signed tree head) match the signed entries`;
  return { id: "header", title: HEADER_TITLE, status: f.total ? "fail" : "pass", summary, failures: f.list, notes: [...notes, ...f.notes()] };
}
