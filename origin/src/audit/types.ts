/** Who caused an audited operation. */
export interface AuditActor {
  type: "api_key" | "system" | "edge";
  id: string;
  role?: string;
}

export type AuditKind =
  | "tenant.created" | "ca.created" | "api_key.created" | "api_key.revoked" | "policy.updated"
  | "agent.created" | "agent.updated" | "agent.retired"
  | "certificate.issued" | "certificate.revoked" | "key.created" | "key.signed" | "ingest_token.issued"
  | "certificate.renewed" | "certificate.superseded" | "key.deletion_scheduled" | "key.orphan_found"
  | "risk.decision" | "event.ingested";

export interface AuditItem {
  kind: AuditKind;
  actor: AuditActor;
  agentId?: string | null;
  /** JSON-safe details; `undefined` members are dropped before canonicalisation. */
  data: Record<string, unknown>;
  at: Date;
}

/** The object that is canonicalised (RFC 8785) and hashed into the tenant's tree. */
export interface AuditEntry {
  v: 1;
  log: string;
  index: number;
  kind: AuditKind;
  at: string;
  actor: AuditActor;
  agent_id: string | null;
  data: Record<string, unknown>;
  /** Leaf hash (hex) of the previous entry: a hash chain inside the tree. */
  prev: string | null;
}

export const SYSTEM = (id: string): AuditActor => ({ type: "system", id });

/** The actor for a request authenticated with an API key. */
export function apiKeyActor(caller: { keyId: string; role: string }): AuditActor {
  return { type: "api_key", id: caller.keyId, role: caller.role };
}
