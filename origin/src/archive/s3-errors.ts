import type { ArchiveError, ArchiveErrorCode } from "./types.ts";

// S3 error codes after which no request can succeed until someone changes configuration:
// credentials, clock, region/endpoint, or the bucket itself. Retrying these would only hide the
// problem behind backoff, so they are `misconfigured` rather than `unavailable`/`rejected`.
const MISCONFIGURED_CODES = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "AccessDenied",
  "AllAccessDisabled",
  "AccountProblem",
  "InvalidToken",
  "ExpiredToken",
  "RequestTimeTooSkewed",
  "AuthorizationHeaderMalformed",
  "PermanentRedirect",
  "NoSuchBucket",
  "InvalidBucketState",
  "InvalidBucketName",
  "BucketAlreadyExists",
  "IllegalLocationConstraintException",
  "InvalidLocationConstraint",
  "ObjectLockConfigurationNotFoundError",
]);

/** First `<Tag>` value in an S3 XML document (S3 error bodies and small config documents). */
export function xmlTag(xml: string, tag: string): string | null {
  const m = new RegExp(`<${tag}>([^<]*)</${tag}>`).exec(xml);
  return m?.[1] ?? null;
}

/** An S3 error response (`body` is empty for HEAD, which carries no error document). */
export function classifyResponse(what: string, status: number, body: string): ArchiveError {
  const code = xmlTag(body, "Code");
  const detail = xmlTag(body, "Message");
  const kind = codeFor(status, code, detail);
  const hint = kind === "misconfigured" && code === "InvalidRequest" ? "; is Object Lock enabled on the bucket?" : "";
  return { code: kind, message: `S3 ${what}: HTTP ${status}${code ? ` ${code}` : ""}${detail ? ` (${detail})` : ""}${hint}` };
}

function codeFor(status: number, code: string | null, detail: string | null): ArchiveErrorCode {
  if (status >= 500 || status === 429 || status === 408 || code === "RequestTimeout" || code === "SlowDown") {
    return "unavailable";
  }
  if (code && MISCONFIGURED_CODES.has(code)) return "misconfigured";
  // Lock headers sent to a bucket created without Object Lock: a generic 400 InvalidRequest, from
  // AWS with a message naming the missing object-lock configuration, from Ceph with none at all.
  if (code === "InvalidRequest" && (!detail || /object ?lock/i.test(detail))) return "misconfigured";
  // A HEAD has no error document: 403 is bad credentials/permissions, 301 the wrong region.
  if (!code && (status === 403 || status === 301)) return "misconfigured";
  return "rejected";
}

/** fetch() threw: connection refused/reset, DNS, or our AbortSignal timeout. */
export function classifyThrown(what: string, e: unknown, timeoutMs: number): ArchiveError {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) {
    return { code: "unavailable", message: `S3 ${what}: no answer within ${timeoutMs} ms` };
  }
  const cause = e instanceof Error && e.cause instanceof Error ? `: ${e.cause.message}` : "";
  const text = e instanceof Error ? e.message : String(e);
  return { code: "unavailable", message: `S3 ${what}: ${text}${cause}` };
}
