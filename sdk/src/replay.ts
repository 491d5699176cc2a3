/**
 * Where a gateway remembers the signatures it has accepted, so the exact same signed request is
 * accepted once. The in-memory store protects one process: gateways running several instances
 * behind a load balancer must share one (Redis `SET key 1 NX PXAT expiresAt`, a Durable Object,
 * a database unique key...), or a replay sent to another instance gets through.
 */
export interface ReplayStore {
  /**
   * Atomically records `key` until `expiresAt` (ms since the epoch). Returns true when the key was
   * new (accept the request), false when it was already recorded (a replay), and "full" when it
   * cannot be recorded without forgetting a key that is still live (the gateway answers 503).
   */
  checkAndAdd(key: string, expiresAt: number): ReplayCheck | Promise<ReplayCheck>;
}

export type ReplayCheck = boolean | "full";

/**
 * A bounded in-memory store. Keys are only needed until their signature would be refused as stale
 * anyway (created + skew window), so expired keys are dropped to make room. A live key is never
 * dropped: forgetting one would let its request be replayed, and anyone holding a certificate
 * could then push the requests they want to replay out of the store. A store full of live keys
 * answers "full" instead. And one certificate may hold at most `maxPerSerial` of them (default a
 * quarter of the store): an agent that floods the gateway fills its own share, and every other
 * agent keeps being served. A signature is remembered until created + skew, and `created` may lie
 * up to one skew ahead, so a key lives up to twice the skew window: the default 100 000 keys over
 * 120 s hold about 830 signed requests per second sustained (about 200 per agent).
 */
export function memoryReplayStore(options: { maxEntries?: number; maxPerSerial?: number; now?: () => number } = {}): ReplayStore {
  const max = options.maxEntries ?? 100_000;
  const perSerial = options.maxPerSerial ?? Math.max(1, Math.floor(max / 4));
  const now = options.now ?? Date.now;
  const seen = new Map<string, number>();
  // Live keys per certificate: the gate's keys start with the serial and a space (possession.ts).
  const held = new Map<string, number>();
  const serialOf = (key: string) => {
    const sp = key.indexOf(" ");
    return sp < 0 ? key : key.slice(0, sp);
  };
  const forget = (key: string) => {
    seen.delete(key);
    const s = serialOf(key);
    const n = (held.get(s) ?? 1) - 1;
    if (n > 0) held.set(s, n);
    else held.delete(s);
  };
  let lastFullSweep = -Infinity;
  return {
    checkAndAdd(key, expiresAt) {
      const t = now();
      const prev = seen.get(key);
      if (prev !== undefined && prev > t) return false;
      if (prev !== undefined) forget(key);
      // Insertion order is roughly expiry order, so expired keys sit at the front: sweep those up to
      // the first live one.
      for (const [k, exp] of seen) {
        if (exp > t) break;
        forget(k);
      }
      const serial = serialOf(key);
      const full = () => seen.size >= max || (held.get(serial) ?? 0) >= perSerial;
      if (full() && t - lastFullSweep >= 1000) {
        // Signatures made at different times expire out of insertion order: look at every key
        // before saying full, at most once a second (a full store under a flood stays cheap).
        lastFullSweep = t;
        for (const [k, exp] of seen) if (exp <= t) forget(k);
      }
      if (full()) return "full";
      seen.set(key, expiresAt);
      held.set(serial, (held.get(serial) ?? 0) + 1);
      return true;
    },
  };
}
