/**
 * World I's own PRNG: a counter-based SplitMix64 stream in BigInt. Output i of a stream is
 * mix64(key + i·γ), with the key the mixed FNV-1a 64 hash of the stream's name, so every agent's
 * normal work and attacks draw from separate named streams that never shift one another.
 */
const M64 = (1n << 64n) - 1n;
const GAMMA = 0x9e3779b97f4a7c15n;

function mix64(x: bigint): bigint {
  let z = x & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

function fnv64(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < s.length; i++) h = ((h ^ BigInt(s.charCodeAt(i))) * 0x100000001b3n) & M64;
  return h;
}

export class Stream {
  private readonly key: bigint;
  private ctr = 0n;
  constructor(name: string) {
    this.key = mix64(fnv64(name));
  }
  /** Uniform in [0, 1). */
  u(): number {
    this.ctr++;
    return Number(mix64(this.key + this.ctr * GAMMA) >> 11n) / 2 ** 53;
  }
  between(a: number, b: number): number {
    return a + (b - a) * this.u();
  }
  int(a: number, b: number): number {
    return a + Math.floor(this.u() * (b - a + 1));
  }
  chance(p: number): boolean {
    return this.u() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.u() * xs.length)]!;
  }
  normal(): number {
    const u = 1 - this.u();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.u());
  }
  lognormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }
  exp(rate: number): number {
    return -Math.log(1 - this.u()) / rate;
  }
  /** Pareto with minimum xm and shape a: heavy-tailed gaps and durations. */
  pareto(xm: number, a: number): number {
    return xm / Math.pow(1 - this.u(), 1 / a);
  }
  poisson(mean: number): number {
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const l = Math.exp(-mean);
    let k = 0;
    let p = this.u();
    while (p > l) {
      k++;
      p *= this.u();
    }
    return k;
  }
  shuffle<T>(xs: T[]): T[] {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(this.u() * (i + 1));
      [xs[i], xs[j]] = [xs[j]!, xs[i]!];
    }
    return xs;
  }
}
