/**
 * mulberry32: a small seeded PRNG, so world C is deterministic and independent of Math.random.
 * Kept apart from bench/common/rng.ts and world B's on purpose (like world B's from world A's): the
 * blind world shares no generator code with the others, only the harness (types.ts, sim-event.ts),
 * and its distributions differ in detail (Box–Muller guard, array weights, Pareto).
 */
export class Rand {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
  /** Fisher–Yates on a copy. */
  shuffle<T>(xs: readonly T[]): T[] {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
  normal(): number {
    const u = Math.max(1e-12, this.next());
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
  /** Pareto with scale xm and shape alpha: the heavy tail of gaps and invoice amounts. */
  pareto(xm: number, alpha: number): number {
    return xm / Math.pow(Math.max(1e-12, 1 - this.next()), 1 / alpha);
  }
  poisson(lambda: number): number {
    if (lambda <= 0) return 0;
    if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * this.normal()));
    const l = Math.exp(-lambda);
    let k = 0;
    let p = 1;
    do {
      k++;
      p *= this.next();
    } while (p > l);
    return k - 1;
  }
  /** Index drawn with weights proportional to `w`. */
  weighted(w: readonly number[]): number {
    const total = w.reduce((a, b) => a + b, 0);
    let x = this.next() * total;
    for (let i = 0; i < w.length; i++) {
      x -= w[i]!;
      if (x <= 0) return i;
    }
    return w.length - 1;
  }
}
