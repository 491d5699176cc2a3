import type { Result } from "@kakunin/shared";

/** Where sealed audit batches are archived: a directory (dev, single node) or S3 Object Lock. */
export type ArchiveKind = "local" | "s3";

/**
 * Why an archive operation failed; expected failures are returned, never thrown.
 * - `unavailable`: the store could not be reached or answered 5xx/429/timeout — retry with backoff.
 * - `rejected`: this request was refused (different bytes under an existing key, bad digest,
 *   invalid key or retention) — retrying the same request will not help.
 * - `misconfigured`: no request will succeed until an operator acts (wrong credentials, missing
 *   bucket, bucket without Object Lock, unwritable directory).
 */
export type ArchiveErrorCode = "unavailable" | "rejected" | "misconfigured";

export interface ArchiveError {
  code: ArchiveErrorCode;
  message: string;
}

export interface ArchivePutOptions {
  /** The object must stay immutable until then (COMPLIANCE mode on S3); rounded up to whole seconds. */
  retainUntil: Date;
  /** SHA-256 of `body` as the caller computed it; a mismatch is `rejected` before anything is sent. */
  sha256Hex: string;
}

export interface ArchivePutResult {
  /** S3 version id of the stored object; null for the local store (files have no versions). */
  versionId: string | null;
  /** MD5 hex of the body (the S3 ETag of a single-part upload), without quotes. */
  etag: string;
}

export interface ArchiveHead {
  /** From the `sha256` metadata written by put(); null for objects put there by something else. */
  sha256Hex: string | null;
  /**
   * Until when the object is guaranteed immutable. Reported only for COMPLIANCE retention:
   * GOVERNANCE can be lifted by anyone allowed to bypass it, so it is no guarantee (null).
   */
  retainUntil: Date | null;
  versionId: string | null;
}

export interface ArchiveStore {
  readonly kind: ArchiveKind;
  /**
   * Stores `body` under `key`, write-once. A key that already holds the same bytes is success
   * (so a retried put is harmless); a key holding different bytes is `rejected`.
   */
  put(key: string, body: Uint8Array, opts: ArchivePutOptions): Promise<Result<ArchivePutResult, ArchiveError>>;
  /** What is stored under `key` without downloading it; null when nothing is. */
  head(key: string): Promise<Result<ArchiveHead | null, ArchiveError>>;
  /** The stored bytes; null when nothing is stored under `key`. */
  get(key: string): Promise<Result<Uint8Array | null, ArchiveError>>;
}

/** The S3 store can also prepare (or at least verify) its bucket, e.g. at startup. */
export interface S3ArchiveStore extends ArchiveStore {
  readonly kind: "s3";
  /**
   * Creates the bucket with Object Lock if it does not exist, then checks that Object Lock is
   * enabled; a bucket without it is `misconfigured` (its objects could be deleted).
   */
  ensureBucket(): Promise<Result<{ created: boolean }, ArchiveError>>;
}
