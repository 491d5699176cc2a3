/**
 * The in-isolate cache in front of KV for `GET /v1/verify/:serial` (eventual reads only; strong
 * reads never touch it).
 *
 * Why: each KV read costs the Worker real CPU (and wall time on a cold edge cache), and a gateway
 * verifies the same few agents over and over. What it may cost: staleness. Every entry is dropped
 * `ttlMs` after it was read from KV, so a revocation that reached KV is visible within `ttlMs` on
 * top of KV's own propagation, whatever the traffic. The default, 200 ms, is a fifth of the
 * revocation-visibility goal (< 1 s); `KAKUNIN_VERIFY_CACHE_MS` overrides it (0 turns the cache
 * off). Workers keep an isolate per location (and sometimes several), so the bound holds per
 * isolate; there is no cross-isolate invalidation to rely on.
 *
 * Both the certificate record and the agent's risk record are cached as KV returned them (raw
 * strings, or null for a miss), so a hit does exactly what a KV read would have done next.
 */
export interface StatusEntry {
  cert: string | null;
  risk: string | null;
}

export const DEFAULT_TTL_MS = 200;
/** Enough for every agent a large gateway fleet verifies; ~2–3 KB each, so ≤ ~30 MB of 128 MB. */
export const MAX_ENTRIES = 10_000;

export function cacheTtlMs(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === "") return DEFAULT_TTL_MS;
  const n = Number(raw);
  // Never above the revocation goal, whatever the configuration says.
  return Number.isFinite(n) && n >= 0 ? Math.min(n, 1000) : DEFAULT_TTL_MS;
}

/** A bounded map whose entries expire; also used by the OCSP responder (ocsp/prepared.ts). */
export class StatusCache<T = StatusEntry> {
  private readonly entries = new Map<string, { value: T; until: number; units: number }>();
  /** Bumped by every delete(): a read that began before one may hold what the delivery replaced. */
  private generation = 0;
  /** Sum of `units(value)` over the entries held. */
  private heldUnits = 0;

  /**
   * `maxUnits` and `units` bound what the entries weigh (bytes, roughly) when the count alone does
   * not: a CRL can be ~1.6 MB as held (pki-cache.ts), so 10,000 of them would not fit an isolate.
   */
  constructor(
    private readonly maxEntries = MAX_ENTRIES,
    private readonly maxUnits = Number.POSITIVE_INFINITY,
    private readonly units: (value: T) => number = () => 0,
  ) {}

  get(key: string, now: number): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (now >= e.until) {
      this.drop(key);
      return undefined;
    }
    return e.value;
  }

  /** Taken before a read from KV and handed to set(): see there. */
  readStarted(): number {
    return this.generation;
  }

  /**
   * `readSince` (readStarted() before the KV read): when this isolate took a delivery while the
   * read was in flight, the value may be the record the delivery replaced, and caching it would
   * serve it for a whole TTL after delete() ran, i.e. after the origin's revoke had its answer.
   * It is then answered once and not kept. Any delivery counts, not only one of this key: exact
   * enough, and nothing per key to bound.
   */
  set(key: string, value: T, now: number, ttlMs: number, readSince?: number): void {
    if (ttlMs <= 0) return;
    if (readSince !== undefined && readSince !== this.generation) return;
    this.drop(key);
    const units = this.units(value);
    if (units > this.maxUnits) return;
    // Map iteration is insertion order, so the first key is the oldest entry.
    while (this.entries.size > 0 && (this.entries.size >= this.maxEntries || this.heldUnits + units > this.maxUnits)) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.drop(oldest);
    }
    this.entries.set(key, { value, until: now + ttlMs, units });
    this.heldUnits += units;
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.heldUnits -= e.units;
    this.entries.delete(key);
  }

  /** Drops an entry: this isolate applied a newer record for it (internal_publish). */
  delete(key: string): void {
    this.generation++;
    this.drop(key);
  }

  get size(): number {
    return this.entries.size;
  }

  /** UTF-16 units of every key held (what the keys cost the isolate): for metrics and tests, O(entries). */
  keyUnits(): number {
    let n = 0;
    for (const k of this.entries.keys()) n += k.length;
    return n;
  }
}

/** One per isolate: module scope lives as long as the isolate does. */
export const statusCache = new StatusCache<StatusEntry>();
