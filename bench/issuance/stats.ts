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

export function perSecond(r: SeriesResult): number {
  return r.elapsedMs > 0 ? (r.latencies.length * 1000) / r.elapsedMs : Number.NaN;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}
