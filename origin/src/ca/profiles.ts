import { tenantUrn, type KakuninOids } from "@kakunin/shared";
import { x509 } from "./x509.ts";
import { agentModelExtension, modelUrn, type AgentModel } from "./model-extension.ts";
import { dn } from "./names.ts";
import type { AgentPkiUrls, IssuingPkiUrls } from "./urls.ts";

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

export interface IssuingProfile {
  /** Where the root's certificate and CRL are published (AIA caIssuers, CDP); none when unset. */
  urls?: IssuingPkiUrls;
  /**
   * The tenant whose id the CA names (the tenant extension and a SAN URI), which
   * `kakunin audit verify` checks against the bundle's tenant.
   */
  tenant?: { id: string; oids: KakuninOids };
}

export function issuingExtensions(p: IssuingProfile = {}): x509.Extension[] {
  return [
    // pathLen 0: the issuing CA signs agents, never another CA.
    new x509.BasicConstraintsExtension(true, 0, true),
    // digitalSignature lets the CA sign OCSP responses itself.
    new x509.KeyUsagesExtension(KU.keyCertSign | KU.cRLSign | KU.digitalSignature, true),
    // No OCSP URL: the root signs no OCSP responses; the ARL (root CRL) covers issuing CAs.
    ...(p.urls ? [
      new x509.AuthorityInfoAccessExtension({ caIssuers: p.urls.caIssuers }, false),
      new x509.CRLDistributionPointsExtension([p.urls.crl], false),
    ] : []),
    ...(p.tenant ? tenantBinding(p.tenant.id, p.tenant.oids) : []),
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

export interface AgentProfile {
  /** OID of the agent-model extension (`kakuninOids(arc).agentModelExtension`). */
  modelOid: string;
  /** Where this tenant's OCSP, CRL and issuing CA are published; none when unset. */
  urls?: AgentPkiUrls;
}

// The same for every agent: encoded once, not on every issuance (each costs ~0.2–0.5 ms of asn1-schema).
const AGENT_FIXED = [
  new x509.BasicConstraintsExtension(false, undefined, true),
  new x509.KeyUsagesExtension(KU.digitalSignature, true),
  new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
] as const;

export function agentExtensions(agentId: string, model: AgentModel, p: AgentProfile): x509.Extension[] {
  return [
    ...AGENT_FIXED,
    // The model binding twice: the extension for Kakunin code, a SAN URI for everyone else.
    new x509.SubjectAlternativeNameExtension([{ type: "url", value: agentUrn(agentId) }, { type: "url", value: modelUrn(model) }], false),
    agentModelExtension(model, p.modelOid),
    ...(p.urls ? [
      new x509.AuthorityInfoAccessExtension({ ocsp: p.urls.ocsp, caIssuers: p.urls.caIssuers }, false),
      new x509.CRLDistributionPointsExtension([p.urls.crl], false),
    ] : []),
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

/** Generation 1 is the tenant's first issuing CA; each rollover adds one (` G2`, ` G3`, ...). */
export function issuingName(tenantName: string, generation = 1): x509.Name {
  const suffix = generation > 1 ? ` G${generation}` : "";
  return dn([["O", tenantName], ["CN", `${`Kakunin Issuing CA ${tenantName}`.slice(0, 64 - suffix.length)}${suffix}`]]);
}

export function agentName(agent: string, tenantName: string): x509.Name {
  return dn([["O", tenantName], ["CN", agent]]);
}
