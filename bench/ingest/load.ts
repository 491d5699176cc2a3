export interface LoadPlan {
  concurrency: number;
  durationMs: number;
  maxRequests: number;
}

export interface LoadResult {
  ok: number;
  errors: number;
  elapsedMs: number;
  p50: number;
  p99: number;
  firstError?: string;
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ?? Number.NaN;
}

/**
 * Closed-loop load (as bench/verify): `concurrency` workers each send the next request as soon as
 * the previous one finished, until the duration or the request budget runs out. `op` throws when
 * a response is wrong; only correct responses count towards throughput and latency.
 */
export async function runLoad(plan: LoadPlan, op: () => Promise<void>): Promise<LoadResult> {
  const latencies: number[] = [];
  let issued = 0;
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const deadline = start + plan.durationMs;
  const worker = async (): Promise<void> => {
    while (issued < plan.maxRequests && performance.now() < deadline) {
      issued++;
      const t0 = performance.now();
      try {
        await op();
        latencies.push(performance.now() - t0);
      } catch (e) {
        errors++;
        firstError ??= e instanceof Error ? e.message : String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: plan.concurrency }, worker));
  return {
    ok: latencies.length, errors, elapsedMs: performance.now() - start,
    p50: percentile(latencies, 50), p99: percentile(latencies, 99),
    ...(firstError === undefined ? {} : { firstError }),
  };
}
