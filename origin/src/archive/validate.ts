import { createHash } from "node:crypto";
import { err, ok, type Result } from "@kakunin/shared";
import type { ArchiveError, ArchivePutOptions } from "./types.ts";

// One key syntax for both stores, so switching KAKUNIN_ARCHIVE never changes which keys work:
// "/"-separated segments of URL- and filesystem-safe characters. A segment may not start with
// "." (no "..", no clash with the local store's hidden temp files), and ".meta.json" is
// reserved for the local store's sidecar files.
const SEGMENT = /^[A-Za-z0-9_=-][A-Za-z0-9._=-]*$/;
const MAX_KEY_BYTES = 1024; // S3's limit
const SIDECAR_SUFFIX = ".meta.json";
const SHA256_HEX = /^[0-9a-f]{64}$/;

export { SIDECAR_SUFFIX };

export function checkKey(key: string): Result<string[], ArchiveError> {
  const segments = key.split("/");
  if (
    key.length === 0 ||
    Buffer.byteLength(key) > MAX_KEY_BYTES ||
    key.endsWith(SIDECAR_SUFFIX) ||
    !segments.every((s) => SEGMENT.test(s))
  ) {
    return err({ code: "rejected", message: `invalid archive key ${JSON.stringify(key.slice(0, 200))}` });
  }
  return ok(segments);
}

/** Everything a put sends besides the body, computed once from the bytes actually being stored. */
export interface PreparedPut {
  segments: string[];
  sha256Hex: string;
  md5Hex: string;
  md5Base64: string;
  /** ISO 8601 without fractional seconds (what S3 documents), rounded up: never shorter than asked. */
  retainUntilIso: string;
}

export function preparePut(
  key: string,
  body: Uint8Array,
  opts: ArchivePutOptions,
  now: number = Date.now(),
): Result<PreparedPut, ArchiveError> {
  const segments = checkKey(key);
  if (!segments.ok) return segments;
  const untilMs = opts.retainUntil.getTime();
  if (!Number.isFinite(untilMs) || untilMs <= now) {
    return err({ code: "rejected", message: `retainUntil must be a date in the future (key ${key})` });
  }
  const sha256Hex = createHash("sha256").update(body).digest("hex");
  // The caller's hash is checked against the bytes here: a batch corrupted between sealing and
  // archiving must not be stored under a hash that claims otherwise.
  if (opts.sha256Hex.toLowerCase() !== sha256Hex) {
    return err({ code: "rejected", message: `sha256Hex does not match the body of ${key}` });
  }
  const md5 = createHash("md5").update(body).digest();
  return ok({
    segments: segments.value,
    sha256Hex,
    md5Hex: md5.toString("hex"),
    md5Base64: md5.toString("base64"),
    retainUntilIso: toWholeSecondsIso(untilMs),
  });
}

export function toWholeSecondsIso(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function isSha256Hex(value: unknown): value is string {
  return typeof value === "string" && SHA256_HEX.test(value);
}
