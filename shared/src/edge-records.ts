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
  /** Pre-signed OCSP response (DER, base64) for this certificate's current status. */
  ocsp_b64: string | null;
}

export interface AgentRecord {
  kind: "agent";
  v: number;
  agent_id: string;
  tenant_id: string;
  status: "active" | "suspended" | "retired";
  /** Serial of the certificate that currently speaks for the agent (null when none is active). */
  current_serial: string | null;
}

export interface CrlRecord {
  kind: "crl";
  v: number;
  tenant_id: string;
  /** SHA-1 issuer name/key hashes, so OCSP requests can be matched to the tenant's CA. */
  crl_b64: string;
  this_update: string;
  next_update: string;
  chain_pem: string;
}

export type EdgeRecord = CertStatusRecord | AgentRecord | CrlRecord;

/** The KV key a record lives under. */
export function recordKey(r: EdgeRecord): string {
  switch (r.kind) {
    case "cert":
      return `cert:${r.serial_number}`;
    case "agent":
      return `agent:${r.agent_id}`;
    case "crl":
      return `crl:${r.tenant_id}`;
  }
}

export interface PublishBatch {
  records: EdgeRecord[];
}

export interface PublishAck {
  applied: number;
  stale: number;
}
