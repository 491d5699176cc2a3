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

export function issuingExtensions(): x509.Extension[] {
  return [
    // pathLen 0: the issuing CA signs agents, never another CA.
    new x509.BasicConstraintsExtension(true, 0, true),
    // digitalSignature lets the CA sign OCSP responses itself.
    new x509.KeyUsagesExtension(KU.keyCertSign | KU.cRLSign | KU.digitalSignature, true),
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

/** The tenant's audit-log signing key: signs tree heads, nothing else. */
export function auditExtensions(): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(KU.digitalSignature | KU.nonRepudiation, true),
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
