import type { ScoredInput } from "@kakunin/shared";

/**
 * The reference scorer the issue compares against: per agent, frequency novelty of categorical
 * features plus robust z-scores of numeric ones, combined by max, with no tuning beyond two
 * textbook constants (novelty counts after 50 events and is -log10 of the smoothed frequency / 4;
 * z is mapped to a score as |z| / 8, with the MAD floored at one count or 5 % in log space). It has
 * no memory bound: it exists only to give the bench a baseline measured in the same run.
 */
export class ReferenceScorer {
  private counts = new Map<string, Map<string, number>>();
  private nums = new Map<string, number[]>();
  private recent: number[] = [];
  private outcomes: number[] = [];

  private novelty(feature: string, value: string): number {
    const m = this.counts.get(feature) ?? new Map<string, number>();
    this.counts.set(feature, m);
    const total = [...m.values()].reduce((a, b) => a + b, 0);
    const c = m.get(value) ?? 0;
    m.set(value, c + 1);
    if (total < 50) return 0;
    return Math.min(1, -Math.log10((c + 1) / (total + m.size + 1)) / 4);
  }

  private z(feature: string, x: number, floor = 0.05): number {
    const xs = this.nums.get(feature) ?? [];
    this.nums.set(feature, xs);
    let score = 0;
    if (xs.length >= 20) {
      const s = [...xs].sort((a, b) => a - b);
      const med = s[s.length >> 1]!;
      const dev = s.map((v) => Math.abs(v - med)).sort((a, b) => a - b)[s.length >> 1]!;
      score = Math.min(1, Math.abs(x - med) / Math.max(1.4826 * dev, floor) / 8);
    }
    xs.push(x);
    if (xs.length > 500) xs.shift();
    return score;
  }

  private prev = "";

  score(e: ScoredInput): number {
    const hour = new Date(e.ts).getUTCHours();
    const kind = (e.resource ?? "").replace(/[0-9a-f]{4,}|\d+/gi, "#");
    this.recent = this.recent.filter((t) => e.ts - t < 60_000);
    this.recent.push(e.ts);
    this.outcomes.push(e.outcome === "success" ? 0 : 1);
    if (this.outcomes.length > 20) this.outcomes.shift();
    const parts = [
      this.novelty("action", e.action),
      this.novelty("transition", `${this.prev}>${e.action}`),
      this.novelty("kind", kind),
      this.novelty("hour", String(hour)),
      e.amount !== undefined ? this.z(`amount:${e.action}`, Math.log1p(e.amount)) : 0,
      e.records !== undefined ? this.z(`records:${e.action}`, Math.log1p(e.records)) : 0,
      e.bytes !== undefined ? this.z(`bytes:${e.action}`, Math.log1p(e.bytes)) : 0,
      this.z("rate", this.recent.length, 1),
      this.z("errors", this.outcomes.reduce((a, b) => a + b, 0), 1),
    ];
    this.prev = e.action;
    return Math.round(Math.max(...parts) * 1000) / 1000;
  }
}
