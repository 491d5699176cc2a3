/**
 * World B's own seeded randomness (mulberry32 plus the few distributions the world needs), kept
 * apart from world A's so the two generators share nothing but the harness types.
 */
export class Rand {
  private a: number;
  constructor(seed: number) {
    this.a = seed >>> 0;
  }
  next(): number {
    this.a = (this.a + 0x6d2b79f5) >>> 0;
    let t = this.a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** A child stream: independent of how many draws the parent makes later. */
  fork(label: string): Rand {
    let h = this.a ^ 0x9e3779b9;
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
    return new Rand(h);
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(lo: number, hi: number): number {
    return Math.floor(this.uniform(lo, hi + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  weighted<T>(xs: readonly T[], w: (x: T) => number): T {
    const total = xs.reduce((s, x) => s + w(x), 0);
    let r = this.next() * total;
    for (const x of xs) if ((r -= w(x)) <= 0) return x;
    return xs[xs.length - 1]!;
  }
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
  poisson(mean: number): number {
    if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const l = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > l) { k++; p *= this.next(); }
    return k;
  }
  /**
   * A gap between task steps: mostly log-normal around `median`, with a Pareto tail (α 1.3) in
   * 8 % of gaps, so some steps wait for a human or a slow system for much longer.
   */
  heavyGap(median: number): number {
    if (this.chance(0.08)) return median * 3 * Math.pow(1 - this.next(), -1 / 1.3);
    return this.logNormal(median, 0.8);
  }
}
