import { tenantUrn, type KakuninOids } from "@kakunin/shared";
import { x509 } from "./x509.ts";
import { agentModelExtension, type AgentModel } from "./model-extension.ts";
import { dn } from "./names.ts";

/**
 * The three certificate profiles Kakunin issues. Validity windows and key usages follow common
 * private-PKI practice (step-ca, Vault PKI): a long-lived offline-style root, a per-tenant issuing
 * CA that can sign only end-entity certificates, and short-lived-ish agent certificates.
 * docs/certificate-profile.md is the human-readable version of this file.
 */
export const ROOT_VALIDITY_DAYS = 20 * 365;
export const ISSUING_VALIDITY_DAYS = 10 * 365;
export const DAY_MS = 86_400_000;
/** Back-date notBefore a little so a relying party with a slow clock does not reject a fresh cert. */
export const BACKDATE_MS = 60_000;

const { KeyUsageFlags: KU } = x509;

export function rootExtensions(): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(KU.keyCertSign | KU.cRLSign, true),
  ];
}

/**
 * The issuing CA's profile. With `tenant`, it names the tenant's id (the tenant extension and a
 * SAN URI), which `kakunin audit verify` checks against the bundle's tenant.
 */
export function issuingExtensions(tenant?: { id: string; oids: KakuninOids }): x509.Extension[] {
  return [
    // pathLen 0: the issuing CA signs agents, never another CA.
    new x509.BasicConstraintsExtension(true, 0, true),
    // digitalSignature lets the CA sign OCSP responses itself.
    new x509.KeyUsagesExtension(KU.keyCertSign | KU.cRLSign | KU.digitalSignature, true),
    ...(tenant ? tenantBinding(tenant.id, tenant.oids) : []),
  ];
}

/**
 * The tenant binding: the non-critical tenant extension, whose value is the tenant id (a UUID,
 * lowercase) as a DER UTF8String, and the SAN URI `urn:kakunin:tenant:<uuid>`. Both say the same
 * thing; the extension is what the verifier requires, the URI is what generic tools display.
 */
export function tenantBinding(tenantId: string, oids: KakuninOids): x509.Extension[] {
  const id = new TextEncoder().encode(tenantId.toLowerCase());
  // DER UTF8String (tag 12); a UUID is 36 bytes, so the short length form always applies.
  const der = new Uint8Array([0x0c, id.length, ...id]);
  return [
    new x509.Extension(oids.tenantExtension, false, der),
    new x509.SubjectAlternativeNameExtension([{ type: "url", value: tenantUrn(tenantId.toLowerCase()) }], false),
  ];
}

export function agentExtensions(agentId: string, model: AgentModel): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(KU.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
    new x509.SubjectAlternativeNameExtension([{ type: "url", value: agentUrn(agentId) }], false),
    agentModelExtension(model),
  ];
}

/**
 * The tenant's tree-head signer ("audit certificate"): signs tree heads, nothing else. Its EKU is
 * the audit EKU alone, so no agent certificate (EKU clientAuth) can stand in for it, and it names
 * the tenant it signs for.
 */
export function auditExtensions(tenantId: string, oids: KakuninOids): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(KU.digitalSignature | KU.nonRepudiation, true),
    new x509.ExtendedKeyUsageExtension([oids.ekuAuditTreeHeadSigning], false),
    ...tenantBinding(tenantId, oids),
  ];
}

export function auditName(tenantName: string): x509.Name {
  return dn([["O", tenantName], ["CN", `Kakunin Audit Log ${tenantName}`.slice(0, 64)]]);
}

export function agentUrn(agentId: string): string {
  return `urn:kakunin:agent:${agentId}`;
}

// Order is most significant first (O, then CN), as X.500 and openssl print it.
export function rootName(deploymentTag: string): x509.Name {
  return dn([["O", "Kakunin"], ["CN", `Kakunin Root CA ${deploymentTag}`]]);
}

export function issuingName(tenantName: string): x509.Name {
  return dn([["O", tenantName], ["CN", `Kakunin Issuing CA ${tenantName}`.slice(0, 64)]]);
}

export function agentName(agent: string, tenantName: string): x509.Name {
  return dn([["O", tenantName], ["CN", agent]]);
}
