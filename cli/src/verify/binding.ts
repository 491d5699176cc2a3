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
