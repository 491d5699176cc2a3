import { percentile } from "./stats.ts";

export interface LoadPlan {
  concurrency: number;
  durationMs: number;
  maxRequests: number;
}

export interface LoadResult {
  label: string;
  concurrency: number;
  ok: number;
  errors: number;
  elapsedMs: number;
  /** Successful responses per second. */
  rps: number;
  p50: number;
  p99: number;
  firstError?: string;
}

/**
 * Closed-loop load: `concurrency` workers each send the next request as soon as the previous one
 * finished, until the duration or the request budget runs out (whichever comes first). `op` throws
 * when a response is wrong; only correct responses count towards throughput and latency.
 */
export async function runLoad(label: string, plan: LoadPlan, op: (i: number) => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + plan.durationMs;
  const worker = async (): Promise<void> => {
    while (issued < plan.maxRequests && performance.now() < deadline) {
      const i = issued++;
      const t0 = performance.now();
      try {
        await op(i);
        latencies.push(performance.now() - t0);
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  const elapsedMs = performance.now() - start;
  return {
    label,
    concurrency: plan.concurrency,
    ok: latencies.length,
    errors,
    elapsedMs,
    rps: latencies.length / (elapsedMs / 1000),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    ...(firstError === undefined ? {} : { firstError }),
  };
}
