export function max(samples: readonly number[]): number {
  return samples.reduce((m, x) => (x > m ? x : m), Number.NEGATIVE_INFINITY);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
