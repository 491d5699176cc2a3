/** What one timed series produced: per-request latencies and the wall time of the whole series. */
export interface SeriesResult {
  label: string;
  concurrency: number;
  /** Milliseconds per completed operation, in completion order. */
  latencies: number[];
  /** When each operation completed (ms since the series started), in completion order. */
  doneAt: number[];
  elapsedMs: number;
  /** True when the time bound, not the count, ended the series. */
  truncated: boolean;
}

export function perSecond(r: SeriesResult): number {
  return r.elapsedMs > 0 ? (r.latencies.length * 1000) / r.elapsedMs : Number.NaN;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Operations per second over the second half of the series: once a pool that was full at the
 * start is drained, what is left is the refill rate. The first half absorbs the pool.
 */
export function steadyPerSecond(r: SeriesResult): number {
  const from = r.elapsedMs / 2;
  const n = r.doneAt.filter((t) => t >= from).length;
  return r.elapsedMs > 0 ? (n * 1000) / (r.elapsedMs - from) : Number.NaN;
}
