/** Who caused an audited operation. */
export interface AuditActor {
  type: "api_key" | "agent_credential" | "system" | "edge";
  id: string;
  role?: string;
  /** For an agent credential: the agent it speaks for. */
  agent_id?: string;
}

/** Every kind of audit entry the origin writes (the audit entries list refuses a filter naming another). */
export const AUDIT_KINDS = [
  "tenant.created", "ca.created", "ca.rolled_over", "ca.requested", "ca.imported", "ca.root_crl_uploaded",
  "api_key.created", "api_key.revoked", "policy.updated", "agent.created", "agent.updated", "agent.retired",
  "certificate.issued", "certificate.revoked", "key.created", "key.signed", "ingest_token.issued",
  "risk.decision", "risk.alert_dropped", "event.ingested", "evidence.exported", "bootstrap.token_issued",
  "bootstrap.token_discarded", "agent_credential.created", "agent_credential.revoked",
  "agent.suspension_lifted", "certificate.renewed", "certificate.superseded", "key.deletion_scheduled",
  "key.orphan_found", "scoring.updated", "review.decided", "webhook.created", "webhook.replayed",
  "webhook.deleted", "console.signed_in", "console.signed_out", "dead_letter.replayed", "evidence.export_failed",
] as const;

export type AuditKind = (typeof AUDIT_KINDS)[number];

export interface AuditItem {
  kind: AuditKind;
  actor: AuditActor;
  agentId?: string | null;
  /** JSON-safe details; `undefined` members are dropped before canonicalisation. */
  data: Record<string, unknown>;
  at: Date;
}

/**
 * The object that is canonicalised (RFC 8785) and hashed into the tenant's tree. Version 2 adds,
 * for entries about an agent, that agent's own hash chain (docs/evidence-format.md): `agent_seq`
 * numbers the agent's entries 0, 1, 2… and `agent_prev` is the leaf hash of its previous one;
 * `lifecycle_count` counts the agent's lifecycle entries (every kind but the high-volume activity
 * kinds) up to and including this one, and a lifecycle entry also links to the previous lifecycle
 * entry (`lifecycle_prev`). Removing any entry from a bundle then breaks a chain or a count.
 */
export interface AuditEntry {
  v: 2;
  log: string;
  index: number;
  kind: AuditKind;
  at: string;
  actor: AuditActor;
  agent_id: string | null;
  data: Record<string, unknown>;
  /** Leaf hash (hex) of the previous entry: a hash chain inside the tree. */
  prev: string | null;
  agent_seq?: number;
  agent_prev?: string | null;
  lifecycle_count?: number;
  lifecycle_prev?: string | null;
}

export const SYSTEM = (id: string): AuditActor => ({ type: "system", id });

/** The actor for a request authenticated with an API key or an agent credential. */
export function apiKeyActor(caller: { keyId: string; role: string; agentId?: string | null }): AuditActor {
  if (caller.role === "agent" && caller.agentId) return { type: "agent_credential", id: caller.keyId, agent_id: caller.agentId };
  return { type: "api_key", id: caller.keyId, role: caller.role };
}
