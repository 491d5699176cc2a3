import type { CrlRecord } from "@kakunin/shared";
import { cacheTtlMs, StatusCache } from "../verify/status-cache.ts";
import { strongEtag } from "./conditional.ts";
import { fromStore } from "./store-unavailable.ts";

/** One representation served from a CRL record (the CRL's DER, the PEM chain, one CA's DER), with its ETag. */
export interface PkiBody {
  body: Uint8Array;
  etag: string;
}

/**
 * A CRL record as the PKI routes (v1_ca.ts) serve it: parsed once, and each representation decoded
 * and hashed once, on first use.
 *
 * Why: a CRL record is up to ~1.1 MB of JSON (a 16,384-entry partition's DER is ~0.84 MB), and
 * every request for it (the CRL, and the chain and CA certificates published in the same record)
 * parsed that JSON, decoded the base64 byte by byte and SHA-256-hashed the DER for its ETag,
 * unauthenticated and uncached, so anyone polling a large CRL made the edge burn milliseconds of
 * CPU per request. Now an isolate does that once per record and cache period.
 */
export class PreparedPki {
  private readonly bodies = new Map<string, Promise<PkiBody>>();

  constructor(readonly rec: CrlRecord) {}

  /** The representation `name`, made by `make` (pure: depends on the record only) the first time. */
  body(name: string, make: (rec: CrlRecord) => Uint8Array | undefined): Promise<PkiBody> | undefined {
    const held = this.bodies.get(name);
    if (held) return held;
    const bytes = make(this.rec);
    if (!bytes) return undefined;
    const prepared = strongEtag(bytes).then((etag) => ({ body: bytes, etag }));
    this.bodies.set(name, prepared);
    return prepared;
  }
}

/**
 * Roughly the bytes an entry holds once every representation was made: the record's strings
 * (one byte per character for base64 and PEM) and the decoded DER (3/4 of the base64).
 */
const units = (p: PreparedPki): number => 2 * (p.rec.crl_b64.length + p.rec.chain_pem.length);

/**
 * At most this many bytes of records per isolate (of 128 MB): ~20 of the largest partitions, any
 * number of small CRLs up to the entry cap. Records are cached only when found: a miss costs one
 * KV read, and caching misses would let anyone fill the cache with made-up tenant ids.
 */
const PKI_CACHE_MAX_BYTES = 32 * 1024 * 1024;
const PKI_CACHE_MAX_ENTRIES = 1_000;

/**
 * Same staleness bound and invalidation as the verify and OCSP caches (status-cache.ts): entries
 * live KAKUNIN_VERIFY_CACHE_MS (200 ms by default, 0 turns the cache off), a delivery drops the
 * CRL keys it carries (forgetPki), and a read in flight during a delivery is answered but not kept.
 */
const records = new StatusCache<PreparedPki>(PKI_CACHE_MAX_ENTRIES, PKI_CACHE_MAX_BYTES, units);

/** The CRL record under KV key `key` (`crl:<tenant>[:<issuer>[:<partition>]]`), or undefined. */
export async function pkiRecord(env: Env, key: string): Promise<PreparedPki | undefined> {
  const now = Date.now();
  const hit = records.get(key, now);
  if (hit) return hit;
  const since = records.readStarted();
  const raw = await fromStore("status store", () => env.CERT_STATUS.get(key));
  if (!raw) return undefined;
  const prepared = new PreparedPki(JSON.parse(raw) as CrlRecord);
  records.set(key, prepared, now, cacheTtlMs(env.KAKUNIN_VERIFY_CACHE_MS), since);
  return prepared;
}

/** Drops what this isolate holds of the record under `key`: it took a newer one (internal_publish). */
export function forgetPki(key: string): void {
  records.delete(key);
}
