/** ROC AUC by Mann–Whitney: P(score of a random positive > a random negative), ties count half. */
export class AucAgainst {
  private readonly neg: Float64Array;

  constructor(negatives: readonly number[]) {
    this.neg = Float64Array.from(negatives).sort();
  }

  auc(positives: readonly number[]): number {
    if (positives.length === 0 || this.neg.length === 0) return NaN;
    let sum = 0;
    for (const p of positives) {
      const lo = this.lowerBound(p);
      const hi = this.lowerBound(p, true);
      sum += lo + (hi - lo) / 2;
    }
    return sum / (positives.length * this.neg.length);
  }

  /** Index of the first negative ≥ x (or > x when `strict`). */
  private lowerBound(x: number, strict = false): number {
    let lo = 0;
    let hi = this.neg.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const v = this.neg[mid]!;
      if (v < x || (strict && v === x)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((s, x) => s + x, 0) / xs.length;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function tally(keys: Iterable<string>): [string, number][] {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

export const pct = (x: number, digits = 2) => (Number.isFinite(x) ? `${(100 * x).toFixed(digits)}%` : "–");
export const fix = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : "–");
