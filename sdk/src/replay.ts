/**
 * Where a gateway remembers the signatures it has accepted, so the exact same signed request is
 * accepted once. The in-memory store protects one process: gateways running several instances
 * behind a load balancer must share one (Redis `SET key 1 NX PXAT expiresAt`, a Durable Object,
 * a database unique key...), or a replay sent to another instance gets through.
 */
export interface ReplayStore {
  /**
   * Atomically records `key` until `expiresAt` (ms since the epoch). Returns true when the key was
   * new (accept the request), false when it was already recorded (a replay).
   */
  checkAndAdd(key: string, expiresAt: number): boolean | Promise<boolean>;
}

/**
 * A bounded in-memory store. Keys are only needed until their signature would be refused as stale
 * anyway (created + skew window), so expired keys are dropped first; at capacity the oldest are
 * dropped, which at the default 100 000 keys and 60 s window means more than 1 600 signed requests
 * per second sustained before a replay could slip through.
 */
export function memoryReplayStore(options: { maxEntries?: number; now?: () => number } = {}): ReplayStore {
  const max = options.maxEntries ?? 100_000;
  const now = options.now ?? Date.now;
  const seen = new Map<string, number>();
  return {
    checkAndAdd(key, expiresAt) {
      const t = now();
      const prev = seen.get(key);
      if (prev !== undefined && prev > t) return false;
      seen.delete(key);
      // Insertion order is roughly expiry order, so expired keys sit at the front: sweep those, then
      // (only if still full) the oldest live ones.
      for (const [k, exp] of seen) {
        if (exp > t && seen.size < max) break;
        seen.delete(k);
      }
      seen.set(key, expiresAt);
      return true;
    },
  };
}
