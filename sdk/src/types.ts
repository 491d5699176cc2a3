/** Reason codes the edge itself reports (workers/src/verify/evaluate.ts). */
export type EdgeReasonCode =
  | "revoked"
  | "superseded"
  | "expired"
  | "not_yet_valid"
  | "agent_suspended"
  | "agent_retired"
  | "model_hash_mismatch"
  | "scope_not_granted"
  | "risk_too_high";

/** Edge codes plus the ones only a client can observe. */
export type VerifyReasonCode = EdgeReasonCode | "tenant_not_allowed" | "invalid_serial" | "unknown_serial" | "edge_unavailable";

export interface EdgeReason {
  code: EdgeReasonCode;
  detail: string;
}

export interface VerifyReason {
  code: VerifyReasonCode;
  detail: string;
}

/** `superseded`: replaced by a renewal once its overlap ended (RFC 5280 reason superseded), not revoked for cause. */
export type CertificateStatus = "active" | "revoked" | "superseded" | "expired";

export type RiskBand = "low" | "medium" | "high";

/** The `data` of `GET /v1/verify/:serial`, as the edge answers it. */
export interface EdgeVerifyData {
  serial_number: string;
  status: CertificateStatus;
  valid: boolean;
  reasons: EdgeReason[];
  agent_id: string;
  agent_urn: string;
  tenant_id: string;
  model: { name: string; version: string; hash: string };
  scopes: string[];
  not_before: string;
  not_after: string;
  revoked_at: string | null;
  revocation_reason: string | null;
  /** Not checked by the edge client: an answer without a usable one fails a risk ceiling closed (evaluate.ts). */
  risk: { score: number; band: RiskBand };
  checked_at: string;
  /**
   * PEM of the agent's certificate, so a gateway can check a signature without a second request.
   * The edge sends it only when asked (`?include=certificate_pem`; the verifier asks unless
   * `includeCertificate` is false).
   */
  certificate_pem?: string;
  /** When the agent should renew (two thirds into its validity); absent from older edges. */
  renew_after?: string;
  /** True from renew_after on while the certificate is still valid. */
  expires_soon?: boolean;
  /** Renewed certificates: valid until this instant, superseded afterwards. */
  superseded_at?: string | null;
  /** Serial of the successor certificate. */
  superseded_by?: string | null;
}

/**
 * The edge's answer evaluated for one caller: its reasons may include the SDK's own
 * (`tenant_not_allowed`), which the edge never sends, so they are not EdgeReasons.
 */
export type CheckedVerifyData = Omit<EdgeVerifyData, "reasons"> & { reasons: VerifyReason[] };

/** What a caller may require on top of the certificate being active. */
export interface VerifyChecks {
  /** `sha256:<hex>`: the model hash the certificate must bind. */
  modelHash?: string;
  /** Actions the agent's declared scopes must cover (all of them). */
  scope?: string | readonly string[];
  /** Refuse (reason `risk_too_high`) an agent whose risk band is above this, before any revocation. */
  maxBand?: "low" | "medium";
  /** Refuse (reason `risk_too_high`) an agent whose risk score (0–1) is above this. */
  maxRisk?: number;
  /**
   * Tenant id(s) the agent must belong to (`data.tenant_id`); otherwise reason `tenant_not_allowed`.
   * The edge certifies agents of every tenant, so a gateway serving one tenant should set it.
   */
  tenant?: string | readonly string[];
}

/**
 * The verdict. `kind` says where it came from; `valid` is the one field a gateway must act on.
 * `reasons` is empty exactly when the agent is valid and the answer is not degraded.
 */
export type VerifyResult =
  | {
      kind: "checked";
      valid: boolean;
      degraded: false;
      serial: string;
      reasons: VerifyReason[];
      /** The edge's answer, with `status`, `valid` and `reasons` evaluated for these checks at this moment. */
      data: CheckedVerifyData;
      /** True when answered from the in-memory cache (no request). */
      cached: boolean;
    }
  | { kind: "unknown_serial"; valid: false; degraded: false; serial: string; reasons: VerifyReason[]; cached: boolean }
  | { kind: "invalid_serial"; valid: false; degraded: false; serial: string; reasons: VerifyReason[] }
  | ({ kind: "edge_unavailable"; serial: string; reasons: VerifyReason[]; cause: string } & (
      /** Failing closed (the default): not valid. */
      | { valid: false; degraded: false }
      /** Failing open (`failClosed: false`): let through, flagged as degraded; `reasons` says why. */
      | { valid: true; degraded: true }
    ));

/** How the SDK calls the edge; `fetch` by default, `SELF.fetch` or a service binding in a Worker. */
export type FetchLike = (request: Request) => Promise<Response>;

/**
 * The environment's WebCrypto key type, spelled through `crypto.subtle` so it resolves under the
 * DOM lib, @cloudflare/workers-types and @types/node alike (Node's types have no global `CryptoKey`).
 */
export type WebCryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
