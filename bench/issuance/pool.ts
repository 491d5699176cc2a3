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
 * Polls /healthz until the background filler has the pool at its target, or `maxMs` passes. A
 * deadline miss is not an error: the caller reports the level it got, because a burst that
 * starts below N ready keys is no longer guaranteed to be all pool hits and must say so.
 */
export async function waitForFullPool(client: OriginClient, maxMs: number): Promise<PoolWait> {
  const start = performance.now();
  for (;;) {
    const status = await client.poolStatus();
    if (!status) throw new Error("/healthz reports no key_pool: the origin is not using the local KeyManager pool");
    const waitedMs = performance.now() - start;
    if (status.ready >= status.target) return { status, waitedMs, full: true };
    if (waitedMs >= maxMs) return { status, waitedMs, full: false };
    await sleep(POLL_MS);
  }
}
