import type { OriginClient, PoolStatus } from "./client.ts";
import { sleep } from "./load.ts";

export interface PoolWait {
  /** Pool level when the wait ended (full, or whatever it reached by the deadline). */
  status: PoolStatus;
  waitedMs: number;
  full: boolean;
}

const POLL_MS = 250;

/**
 * Polls GET /metrics until the background filler has the pool at its target, or `maxMs` passes. A
 * deadline miss is not an error: the caller reports the level it got, because a burst that
 * starts below N ready keys is no longer guaranteed to be all pool hits and must say so.
 */
export async function waitForFullPool(client: OriginClient, maxMs: number, blindMs: number): Promise<PoolWait> {
  const start = performance.now();
  for (;;) {
    const status = await client.poolStatus();
    if (!status) {
      // An origin without the pool gauge (main before it): wait as long as a full refill should take.
      await sleep(blindMs);
      return { status: { ready: Number.NaN, target: Number.NaN }, waitedMs: performance.now() - start, full: true };
    }
    const waitedMs = performance.now() - start;
    if (status.ready >= status.target) return { status, waitedMs, full: true };
    if (waitedMs >= maxMs) return { status, waitedMs, full: false };
    await sleep(POLL_MS);
  }
}
