/**
 * What a certificate says about the tenant it belongs to and what it may sign, read the way
 * docs/certificate-profile.md defines it: the tenant extension (a DER UTF8String holding the
 * tenant's UUID), SAN URIs `urn:kakunin:tenant:<uuid>`, and the audit EKU.
 */
import type { KakuninOids } from "@kakunin/shared";
import { x509 } from "../x509.ts";

const TENANT_URN = /^urn:kakunin:tenant:(.+)$/;

export interface TenantNaming {
  /** The extension's tenant id; null when absent; "malformed" when present but not a UTF8String. */
  extension: string | null | "malformed";
  /** Tenant ids named by SAN URIs. */
  urns: string[];
}

function utf8String(der: Uint8Array): string | null {
  // Tag 12 (UTF8String), short-form length: a UUID is 36 bytes.
  if (der.length < 2 || der[0] !== 0x0c || der[1]! >= 0x80 || der[1] !== der.length - 2) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(der.subarray(2));
  } catch {
    return null;
  }
}

export function sanUris(cert: x509.X509Certificate): string[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return san ? san.names.items.filter((n) => n.type === "url").map((n) => n.value) : [];
}

export function tenantNaming(cert: x509.X509Certificate, oids: KakuninOids): TenantNaming {
  const ext = cert.getExtension(oids.tenantExtension);
  const extension = ext ? (utf8String(new Uint8Array(ext.value)) ?? "malformed") : null;
  const urns = sanUris(cert).map((u) => TENANT_URN.exec(u)?.[1]).filter((t): t is string => t !== undefined);
  return { extension, urns };
}

/**
 * Why `cert` does not bind to `tenantId` (empty when it does). `required`: the extension must be
 * present; otherwise an absent extension is accepted (a legacy issuing CA) but a present one, or
 * a tenant URN, naming another tenant never is.
 */
export function bindingProblems(cert: x509.X509Certificate, oids: KakuninOids, tenantId: string, required: boolean): string[] {
  const n = tenantNaming(cert, oids);
  const want = tenantId.toLowerCase();
  const out: string[] = [];
  if (n.extension === "malformed") out.push(`its tenant extension (${oids.tenantExtension}) is not a UTF8String`);
  else if (n.extension === null) {
    if (required) out.push(`it carries no tenant extension (${oids.tenantExtension}), so it is bound to no tenant`);
  } else if (n.extension.toLowerCase() !== want) out.push(`it is bound to tenant ${n.extension}, not the bundle's tenant ${tenantId}`);
  for (const u of n.urns) if (u.toLowerCase() !== want) out.push(`its SAN names tenant ${u}, not the bundle's tenant ${tenantId}`);
  return out;
}

export function hasAuditEku(cert: x509.X509Certificate, oids: KakuninOids): boolean {
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  return eku !== null && eku.usages.map(String).includes(oids.ekuAuditTreeHeadSigning);
}

export function isCa(cert: x509.X509Certificate): boolean {
  return cert.getExtension(x509.BasicConstraintsExtension)?.ca === true;
}

/**
 * The subject of every issuing CA Kakunin makes: O=<tenant name>, CN="Kakunin Issuing CA <tenant
 * name>" cut to 64 characters, with " G<n>" after a rollover (origin/src/ca/profiles.ts issuingName).
 */
function hasKakuninIssuingName(cert: x509.X509Certificate): boolean {
  const o = cert.subjectName.getField("O");
  const cn = cert.subjectName.getField("CN");
  if (o.length !== 1 || cn.length !== 1) return false;
  const suffix = / G[0-9]+$/.exec(cn[0]!)?.[0] ?? "";
  return cn[0] === `${`Kakunin Issuing CA ${o[0]}`.slice(0, 64 - suffix.length)}${suffix}`;
}

/**
 * Why a CA without the tenant binding cannot be the bundle's issuing CA, or an earlier one (null
 * when it can, or when it carries the binding, which bindingProblems judges). Unbound issuing CAs
 * are accepted for those made before the binding existed; but the pinned root may sign more than
 * Kakunin's issuing CAs (an offline root is often an enterprise root: other intermediates,
 * servers), and whoever holds the key of any of those could otherwise certify a tree-head signer
 * bound to any tenant. An unbound one must be a Kakunin issuing CA by its subject, which nothing
 * the root signed for anything else carries.
 */
export function unboundIssuerProblem(cert: x509.X509Certificate, oids: KakuninOids): string | null {
  if (tenantNaming(cert, oids).extension !== null || hasKakuninIssuingName(cert)) return null;
  return (
    `it carries no tenant binding (${oids.tenantExtension}) and is not a Kakunin issuing CA (subject O=<tenant>, CN=Kakunin Issuing CA <tenant>): ` +
    "a certificate the root signed for anything else cannot stand in for one"
  );
}
