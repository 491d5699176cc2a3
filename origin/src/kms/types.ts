import type { Result } from "@kakunin/shared";

/** Which backend holds the private keys. */
export type KeyManagerKind = "local" | "aws-kms" | "pkcs11";

/**
 * Why a key operation failed. `not_configured` and `unavailable` become 503 at the API;
 * `not_found` means the reference names no key the backend knows.
 */
export type KeyManagerErrorCode = "not_configured" | "unavailable" | "not_found" | "failed";

export interface KeyManagerError {
  code: KeyManagerErrorCode;
  message: string;
}

/** A key created inside the backend: only `ref` is ever stored; the private half never leaves. */
export interface CreatedKey {
  /** Opaque backend reference: an AWS KMS key ARN, `pkcs11:...` URI, or `local:key/<uuid>`. */
  ref: string;
  /** DER-encoded SubjectPublicKeyInfo of the RSA-2048 public key. */
  publicKeySpki: Uint8Array;
}

export interface CreateKeyOptions {
  /**
   * Kakunin's key intent id (a UUID recorded in `managed_keys` before this call), written onto the
   * key itself (AWS tag `kakunin:intent`, PKCS#11 CKA_ID, local label) so that a key whose
   * reference never reached the database can still be found by `listKeys` and deleted.
   */
  intent?: string;
}

/** A key the backend holds and can still use (keys pending deletion are not listed). */
export interface ListedKey {
  ref: string;
  label: string;
  /** The intent id written at creation, when the key carries one. */
  intent?: string;
}

export interface DeletionOptions {
  /** AWS KMS waiting period (7–30 days) before the key is destroyed; backends without one delete at once. */
  pendingWindowDays: number;
}

export interface DeletionScheduled {
  /** When the backend destroys the key for good; null when it is destroyed already. */
  deletionDate: Date | null;
  /** The key was already gone or pending deletion: the call is idempotent. */
  alreadyGone: boolean;
}

/**
 * The seam between the CA and wherever keys live (shaped after step-ca's kms/apiv1.KeyManager).
 * Every key is RSA-2048 and every signature is RSASSA-PKCS1-v1_5 with SHA-256, the profile of
 * Kakunin's certificates; a backend computes the digest itself where its API wants one.
 */
export interface KeyManager {
  readonly kind: KeyManagerKind;
  /** Creates a new non-exportable RSA-2048 signing key. `label` is a human hint (e.g. agent id). */
  createKey(label: string, opts?: CreateKeyOptions): Promise<Result<CreatedKey, KeyManagerError>>;
  /** DER SubjectPublicKeyInfo for a key created earlier. */
  getPublicKey(ref: string): Promise<Result<Uint8Array, KeyManagerError>>;
  /** RSASSA-PKCS1-v1_5 / SHA-256 signature over `data` (the backend hashes it). */
  sign(ref: string, data: Uint8Array): Promise<Result<Uint8Array, KeyManagerError>>;
  /**
   * Schedules the key's destruction (AWS ScheduleKeyDeletion with a waiting period; PKCS#11
   * C_DestroyObject; local: the sealed key is deleted). Idempotent: a key already gone or already
   * pending deletion is success with `alreadyGone`.
   */
  scheduleDeletion(ref: string, opts: DeletionOptions): Promise<Result<DeletionScheduled, KeyManagerError>>;
  /** Every usable key this backend holds that Kakunin created (for orphan discovery and counts). */
  listKeys(): Promise<Result<ListedKey[], KeyManagerError>>;
  /** Starts background preparation (the local backend pre-generates keys); optional. */
  warm?(): void;
  /** Keys prepared ahead of demand, for /healthz (backends without a pool omit it). */
  poolStatus?(): Promise<{ ready: number; target: number }>;
  /** Releases sessions, sockets and timers. Safe to call twice. */
  close(): Promise<void>;
}
