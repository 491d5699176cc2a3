import type { SeriesResult } from "./stats.ts";

export interface SeriesSpec {
  label: string;
  /** Upper bound on operations. */
  count: number;
  concurrency: number;
  /** Stop starting new operations after this long; in-flight ones still finish. */
  maxMs: number;
  /** Pause after each operation (per worker), e.g. to let the key pool refill. Not timed. */
  pauseMs?: number;
  /** One operation; throwing aborts the series (a failed request is a benchmark error). */
  run(index: number): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Closed-loop load: `concurrency` workers each run operations back to back, so throughput is what
 * the system sustains with that many requests in flight, not an arrival rate it may fall behind.
 */
export async function runSeries(spec: SeriesSpec): Promise<SeriesResult> {
  const latencies: number[] = [];
  const doneAt: number[] = [];
  let next = 0;
  let truncated = false;
  let failed = false;
  const start = performance.now();
  const worker = async () => {
    // After one failure the others stop too, so the caller can clean up without requests in flight.
    while (next < spec.count && !failed) {
      if (performance.now() - start > spec.maxMs) {
        truncated = true;
        return;
      }
      const index = next++;
      const t0 = performance.now();
      try {
        await spec.run(index);
      } catch (e) {
        failed = true;
        throw e;
      }
      const t1 = performance.now();
      latencies.push(t1 - t0);
      doneAt.push(t1 - start);
      if (spec.pauseMs) await sleep(spec.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  // With pauses the wall time is mostly sleeping; only latency is meaningful then.
  const elapsedMs = performance.now() - start;
  return { label: spec.label, concurrency: spec.concurrency, latencies, doneAt, elapsedMs, truncated };
}

export { sleep };
