/**
 * The report's agent and certificates, taken from what the verifier proved, never from the
 * bundle's unsigned header: the agent from its signed agent.created/agent.updated entries, each
 * certificate's times and status from its signed certificate.* entries and its X.509 (status as
 * of the signed tree head's time). The verifier has already refused a header that disagrees; this
 * keeps the report honest even if it were handed one.
 */
import { bundleAuditEntries, type EvidenceBundle, type EvidenceBundleV2, type EvidenceCertificate } from "@kakunin/shared";
import { issuedAtOf, SignedFacts, statusAt } from "../verify/signed-facts.ts";
import { parseCertificate } from "../x509.ts";

export interface AgentView {
  id: string;
  name: string;
  urn: string;
  ownerName: string;
  ownerEmail: string;
  modelName: string;
  modelVersion: string;
  modelHash: string;
  scopes: string[];
  /** False when the bundle holds no agent.created entry: the fields above then come from the unsigned header. */
  verified: boolean;
  /** Not signed by anything in the bundle: shown labelled as the origin's word at export. */
  statusUnsigned: string;
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

export function signedFactsOf(b: EvidenceBundle | EvidenceBundleV2): SignedFacts {
  const facts = new SignedFacts();
  for (const e of bundleAuditEntries(b)) facts.add(e.kind, e);
  return facts;
}

export function agentView(b: EvidenceBundle | EvidenceBundleV2, facts: SignedFacts): AgentView {
  const signed = facts.agent;
  const src = signed ?? {
    name: str(b.agent.name),
    model: obj(b.agent.model),
    owner: obj(b.agent.owner),
    scopes: Array.isArray(b.agent.scopes) ? b.agent.scopes : [],
  };
  return {
    id: b.agent.id,
    name: src.name,
    // The id is bound by every signed entry's agent_id; the URN is a function of it.
    urn: `urn:kakunin:agent:${b.agent.id}`,
    ownerName: str(src.owner.name),
    ownerEmail: str(src.owner.email),
    modelName: str(src.model.name),
    modelVersion: str(src.model.version),
    modelHash: str(src.model.hash),
    scopes: src.scopes.filter((s): s is string => typeof s === "string"),
    verified: signed !== null,
    statusUnsigned: str(b.agent.status),
  };
}

/**
 * A certificate as the report shows it. `superseded_at`: when a renewal ended (or will end) its
 * overlap, from the signed certificate.renewed/.superseded entries; from then on it no longer
 * speaks for the agent (the verifier's validity check judges events by it, as by a revocation).
 */
export type CertificateView = EvidenceCertificate & { superseded_at: string | null };

/** The agent's certificates as the signed entries and the X.509 state them (those with a signed issuance only). */
export function certificateViews(b: EvidenceBundle | EvidenceBundleV2, facts: SignedFacts): CertificateView[] {
  const asOf = Date.parse(b.tree_head.timestamp);
  return b.certificates.flatMap((c) => {
    const signed = facts.certificate(c.serial_number);
    const cert = parseCertificate(c.certificate_pem);
    if (!signed || typeof cert === "string") return [];
    const notAfter = cert.notAfter.getTime();
    return [
      {
        id: c.id,
        serial_number: signed.serial,
        certificate_pem: c.certificate_pem,
        status: statusAt(signed, notAfter, asOf),
        issued_at: new Date(issuedAtOf(signed)).toISOString(),
        expires_at: cert.notAfter.toISOString(),
        revoked_at: signed.revokedAt,
        revocation_reason: signed.revocationReason,
        superseded_at: signed.supersededAt,
      },
    ];
  });
}
