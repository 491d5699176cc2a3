/** What one timed series produced: per-request latencies and the wall time of the whole series. */
export interface SeriesResult {
  label: string;
  concurrency: number;
  /** Milliseconds per completed operation, in completion order. */
  latencies: number[];
  elapsedMs: number;
  /** True when the time bound, not the count, ended the series. */
  truncated: boolean;
}

/** Nearest-rank percentile: with few samples p99 is simply the slowest, never an interpolation. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

export function perSecond(r: SeriesResult): number {
  return r.elapsedMs > 0 ? (r.latencies.length * 1000) / r.elapsedMs : Number.NaN;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
