import type { Sensitivity, TenantScoring } from "./tenant-scoring.ts";

/**
 * What the origin publishes to the edge and the edge stores in KV. `v` is the origin's outbox
 * sequence number: strictly increasing, so the edge applies a record only when it is newer than
 * what it holds, and a late retry can never roll a revocation back.
 */
export interface ModelRef {
  name: string;
  version: string;
  hash: string;
}

export interface CertStatusRecord {
  kind: "cert";
  v: number;
  serial_number: string;
  certificate_id: string;
  /**
   * Stored status; `expired` is derived at read time from not_after, and `superseded` from
   * superseded_at (a renewed certificate stays `active` here until its overlap ends).
   */
  status: "active" | "revoked" | "superseded";
  agent_id: string;
  agent_urn: string;
  tenant_id: string;
  agent_status: "active" | "suspended" | "retired";
  model: ModelRef;
  scopes: string[];
  not_before: string;
  not_after: string;
  revoked_at: string | null;
  revocation_reason: string | null;
  revocation_code: string | null;
  certificate_pem: string;
  /** End of the renewal overlap: from then on the certificate is superseded (absent/null: not renewed). */
  superseded_at?: string | null;
  /** Serial of the successor issued by the renewal; ingest tokens of this certificate follow it. */
  superseded_by?: string | null;
  /** Pre-signed OCSP response (DER, base64) for this certificate's current status, SHA-1 CertID. */
  ocsp_b64: string | null;
  /**
   * The same status with a SHA-256 CertID: each response carries one SingleResponse, as Go's and
   * Python's OCSP clients require. Absent from origins before 2026-12-07, whose ocsp_b64 carried
   * both CertIDs in one response.
   */
  ocsp_sha256_b64?: string | null;
}

export interface AgentRecord {
  kind: "agent";
  v: number;
  agent_id: string;
  tenant_id: string;
  status: "active" | "suspended" | "retired";
  /** Serial of the certificate that currently speaks for the agent (null when none is active). */
  current_serial: string | null;
  /** How strongly the tenant's scoring treats this agent's evidence (absent = normal). */
  sensitivity?: Sensitivity;
  /**
   * The agent's credentials revoked within the last day (an ingest token lives at most 24 h), and
   * the API keys revoked within it that had minted tokens for the agent still alive then: the edge
   * refuses tokens they minted (claim `cred` or `key`). Absent on records from before 2026-12-06;
   * API keys listed since 2026-12-07.
   */
  revoked_credentials?: string[];
  /**
   * Set when more credentials were revoked in a day than the record lists: every token issued at
   * or before this time (epoch seconds) is refused, whoever minted it.
   */
  tokens_issued_after?: number;
}

/** A tenant's scoring overrides and shadow candidate, read by the AgentMonitor on every ingest. */
export interface ScoringRecord {
  kind: "scoring";
  v: number;
  tenant_id: string;
  scoring: TenantScoring;
}

/**
 * A human review cleared an agent: its monitor accepts the reviewed events as normal history.
 * Delivered to the agent's AgentMonitor (not stored in KV); idempotent per review id.
 */
export interface FeedbackRecord {
  kind: "feedback";
  v: number;
  tenant_id: string;
  agent_id: string;
  review_id: string;
  event_ids: string[];
  /** The newest alert the review closed (ISO, the edge's own alert time): later events were not reviewed. */
  accepted_until?: string;
  /** The reason features of the alerts the review closed (absent: everything is accepted). */
  accepted_features?: string[];
}

export interface CrlRecord {
  kind: "crl";
  v: number;
  tenant_id: string;
  /**
   * Serial of the issuing CA that signed this CRL. Present: the CRL of that one issuer (a tenant
   * has several after a CA rollover), at `/v1/crl/<tenant>/<issuer_serial>`. Absent: the tenant's
   * current issuer, at `/v1/crl/<tenant>`.
   */
  issuer_serial?: string;
  /**
   * One partition of that issuer's CRL (publish wire v3): the CRL whose Issuing Distribution Point
   * is `/v1/crl/<tenant>/<issuer_serial>/<partition>`, the CRL Distribution Point of the
   * certificates in it. Absent: the issuer's full CRL (or, for a large issuer, the CRL of its
   * certificates issued before partitions).
   */
  partition?: number;
  crl_b64: string;
  this_update: string;
  next_update: string;
  chain_pem: string;
}

export type EdgeRecord = CertStatusRecord | AgentRecord | CrlRecord | ScoringRecord | FeedbackRecord;

/** The KV key a record lives under. */
export function recordKey(r: EdgeRecord): string {
  switch (r.kind) {
    case "cert":
      return `cert:${r.serial_number}`;
    case "agent":
      return `agent:${r.agent_id}`;
    case "crl":
      if (r.issuer_serial && r.partition !== undefined) return `crl:${r.tenant_id}:${r.issuer_serial}:${r.partition}`;
      return r.issuer_serial ? `crl:${r.tenant_id}:${r.issuer_serial}` : `crl:${r.tenant_id}`;
    case "scoring":
      return `scoring:${r.tenant_id}`;
    case "feedback":
      return `feedback:${r.review_id}`;
  }
}

export interface PublishBatch {
  wire_version?: number;
  records: EdgeRecord[];
  /** The origin's epoch (see publish-epoch.ts); absent from origins older than epochs. */
  epoch?: { n: number; id: string };
}

export interface PublishAck {
  applied: number;
  /** Records not applied because the edge holds the same or a newer version (or refused the epoch). */
  stale: number;
  /** Keys of the records the edge holds a strictly newer version of, or all when the epoch was refused. */
  stale_keys?: string[];
  /** The epoch the edge holds after this batch and the highest version sent in it. Absent from older edges. */
  head?: { epoch: { n: number; id: string }; max_v: number };
}
