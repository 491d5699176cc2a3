import { parseOcspRequest, SERIAL_PATTERN, type CertStatusRecord, type OcspCertId } from "@kakunin/shared";
import { ACTIVE_MAX_AGE_S, FINAL_MAX_AGE_S } from "../verify/freshness.ts";
import { cacheTtlMs, StatusCache } from "../verify/status-cache.ts";
import { certIdKey, responseCertIds } from "./response-cert-ids.ts";
import { singleResponses } from "./response-reader.ts";
import { ocspResponseTimes } from "./response-times.ts";
import { fromStore } from "../http/store-unavailable.ts";

/**
 * What the responder serves for one serial, prepared once per isolate and cache period: the DER
 * decoded from base64, its ETag and its dates. Same staleness bound as the verify cache
 * (KAKUNIN_VERIFY_CACHE_MS, 200 ms by default): a re-signed response (a revocation) is served
 * within that bound after it reached KV.
 */
export type Prepared =
  | {
      kind: "response";
      der: Uint8Array;
      etag: string;
      revoked: boolean;
      /** The CertIDs it answers for (response-cert-ids.ts): empty when the bytes did not parse. */
      certIds: ReadonlySet<string>;
      thisUpdate?: Date;
      nextUpdate?: Date;
      /** Whether the response says "good" (its certStatus is good [0]). */
      good: boolean;
      /** The record's end of renewal overlap (ms), when the certificate was renewed. */
      supersededAt?: number;
    }
  | { kind: "unknown" }
  | { kind: "unsigned" };

const responses = new StatusCache<Prepared>();
/** Request bytes → the CertID asked about (or null: malformed). Parsing is pure, so only size bounds this. */
const requests = new StatusCache<OcspCertId | null>();
const REQUEST_TTL_MS = 3_600_000;
/**
 * Only requests up to this size are cached. What a client sends is 80–160 bytes (one CertID,
 * perhaps a nonce); the responder takes up to 8 KiB from anyone, and the key is the request itself:
 * caching every size let 10,000 distinct 8 KiB requests (the entry cap) keep 80 MB of the
 * isolate's 128 MB for an hour. Larger requests are parsed each time (≤ 8 KiB, cheap); the cache
 * now holds at most 10,000 × 512 bytes.
 */
export const CACHED_REQUEST_MAX_BYTES = 512;

type CertIdHash = Exclude<OcspCertId["hashAlgorithm"], "other">;
const HASHES: readonly CertIdHash[] = ["sha1", "sha256"];
const cacheKey = (serial: string, hash: CertIdHash): string => `${serial}/${hash}`;

/** What the parsed-request cache holds: entries and the request bytes kept as their keys. */
export function requestCacheFootprint(): { entries: number; keyBytes: number } {
  return { entries: requests.size, keyBytes: requests.keyUnits() };
}

/** Drops the prepared responses for `serial`: this isolate took a newer record for it (internal_publish). */
export function forgetPrepared(serial: string): void {
  for (const hash of HASHES) responses.delete(cacheKey(serial, hash));
}

/**
 * The response for a CertID hashed with `hash`. The origin signs one response per hash, each with
 * one SingleResponse (Go's and Python's OCSP clients refuse more); a record from an origin before
 * that has only ocsp_b64, whose one response carries both CertIDs.
 */
function responseB64(rec: CertStatusRecord, hash: CertIdHash): string | null {
  return hash === "sha256" ? (rec.ocsp_sha256_b64 ?? rec.ocsp_b64) : rec.ocsp_b64;
}

function decodeB64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The request's first CertID (pre-signed responses cover one certificate, RFC 5019 §2.1.1), or null. */
export function requestedCertId(request: Uint8Array, now: number): OcspCertId | null {
  if (request.length > CACHED_REQUEST_MAX_BYTES) return firstCertId(request);
  let key = "";
  for (let i = 0; i < request.length; i++) key += String.fromCharCode(request[i]!);
  const hit = requests.get(key, now);
  if (hit !== undefined) return hit;
  const certId = firstCertId(request);
  requests.set(key, certId, now, REQUEST_TTL_MS);
  return certId;
}

function firstCertId(request: Uint8Array): OcspCertId | null {
  const parsed = parseOcspRequest(request);
  return parsed.ok ? (parsed.value.certIds[0] ?? null) : null;
}

/**
 * Whether a prepared response answers this CertID: serial AND issuer (name and key hashes, in the
 * hash the request used). The KV record is found by serial alone, and the same serial asked under
 * another CA is another certificate: answering it would tell that CA's clients the serial exists
 * here. A response whose CertIDs cannot be read answers nothing (fail closed).
 */
export function answers(p: Extract<Prepared, { kind: "response" }>, certId: OcspCertId): boolean {
  return p.certIds.has(certIdKey(certId));
}

/**
 * A strong validator for the response bytes: two independent 32-bit FNV-1a hashes of the base64
 * text plus its length (cheap: no digest call per prepared response). A new response is a new
 * signature, so consecutive responses of one certificate differ in many bytes.
 */
function etagOf(b64: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < b64.length; i++) {
    const c = b64.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x811c9dc5 | 1) >>> 0;
  }
  return `"${h1.toString(16).padStart(8, "0")}${h2.toString(16).padStart(8, "0")}-${b64.length.toString(16)}"`;
}

/** What answers `serial` asked with a CertID hashed by `hash` (an "other" hash can match no response: read as SHA-1's). */
export async function preparedResponse(env: Env, serial: string, hash: OcspCertId["hashAlgorithm"], now: number): Promise<Prepared> {
  // A request may carry any INTEGER up to its 8 KiB; no certificate has a serial over 20 octets
  // (RFC 5280 §4.1.2.2, and the form every status record is published under). Past ~250 octets
  // `cert:<serial>` is over KV's 512-byte key limit and the read threw: a 500 for anyone who asked.
  if (!SERIAL_PATTERN.test(serial)) return { kind: "unknown" };
  const h: CertIdHash = hash === "sha256" ? "sha256" : "sha1";
  const key = cacheKey(serial, h);
  const hit = responses.get(key, now);
  if (hit) return hit;
  const since = responses.readStarted();
  const raw = await fromStore("status store", () => env.CERT_STATUS.get(`cert:${serial}`));
  let p: Prepared;
  if (!raw) p = { kind: "unknown" };
  else {
    const rec = JSON.parse(raw) as CertStatusRecord;
    const b64 = responseB64(rec, h);
    if (!b64) p = { kind: "unsigned" };
    else {
      const der = decodeB64(b64);
      p = {
        kind: "response",
        der,
        etag: etagOf(b64),
        revoked: rec.status === "revoked",
        certIds: responseCertIds(der) ?? new Set(),
        good: saysGood(der),
        ...ocspResponseTimes(der),
        ...(rec.superseded_at ? { supersededAt: Date.parse(rec.superseded_at) } : {}),
      };
    }
  }
  // Not kept when a delivery reached this isolate during the read (StatusCache.set).
  responses.set(key, p, now, cacheTtlMs(env.KAKUNIN_VERIFY_CACHE_MS), since);
  return p;
}

/** certStatus of the first SingleResponse is good ([0] IMPLICIT NULL); false when unreadable. */
function saysGood(der: Uint8Array): boolean {
  try {
    return singleResponses(der)[0]?.[1]?.tag === 0x80;
  } catch {
    return false;
  }
}

/**
 * Whether the response is a renewed predecessor's "good" and its overlap has ended: the origin
 * signs it good until superseded_at (its nextUpdate) and re-signs it revoked/superseded(4) only when
 * its supersede job runs (every 30 s; later while the origin is down). Served in between, Java's
 * PKIXRevocationChecker read it as good (it accepts a nextUpdate up to 15 minutes past,
 * jdk.security.certpath.ocspClockSkew), and Go's and Python's clients do not look at nextUpdate at
 * all, while /v1/verify already said superseded. The edge cannot sign, so it answers tryLater
 * (fails closed) until the re-signed response arrives. A response signed after the overlap ended
 * (revoked/superseded) is served.
 */
export function goodPastOverlap(p: Extract<Prepared, { kind: "response" }>, now: number): boolean {
  return p.good && p.supersededAt !== undefined && p.supersededAt <= now;
}

/** How long a response may be cached: Kakunin's policy (2 s active, 300 s revoked), never past nextUpdate. */
// The verify answer's own bounds (verify/freshness.ts): OCSP never caches a status longer than /v1/verify would.
const POLICY_S = { active: ACTIVE_MAX_AGE_S, revoked: FINAL_MAX_AGE_S };

/**
 * RFC 5019 §6.2 headers: max-age below nextUpdate − now (and no longer than the verify answer
 * would be cached, so an HTTP cache cannot hide a revocation longer than /v1/verify can),
 * Last-Modified = thisUpdate, ETag = a digest of the response, Expires = when max-age runs out.
 */
export function cacheHeaders(p: Extract<Prepared, { kind: "response" }>, now: number): Record<string, string> {
  const policy = p.revoked ? POLICY_S.revoked : POLICY_S.active;
  const untilNext = p.nextUpdate ? Math.floor((p.nextUpdate.getTime() - now) / 1000) : policy;
  const maxAge = Math.max(0, Math.min(policy, untilNext));
  return {
    "cache-control": `public, max-age=${maxAge}, no-transform, must-revalidate`,
    etag: p.etag,
    expires: new Date(now + maxAge * 1000).toUTCString(),
    ...(p.thisUpdate ? { "last-modified": p.thisUpdate.toUTCString() } : {}),
  };
}
