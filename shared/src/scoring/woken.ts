import { curve, type Curve, type ScoringConfig } from "./config.ts";
import { binomialTailSurprisalLog } from "./features.ts";
import { decayedAt, type Decayed, type MonitorState } from "./state.ts";

/**
 * What an agent's woken things took once they woke: young_tool's tools (their uses among the
 * agent's next events) and repeated_step's object steps (their takes among the next tasks that
 * reached their state). A watch counts k takes among n chances; ended watches are pooled, decayed
 * like the behaviour counts, so the agent's own history says what share a woken thing takes.
 */
export interface WokenPool {
  k: Decayed;
  n: Decayed;
}

/** An ended watch of k takes among n chances joins the pool (none if it saw no chance). */
export function poolWatch(pool: WokenPool | undefined, k: number, n: number, t: number, hl: number): WokenPool | undefined {
  if (n === 0) return pool;
  const at = Math.max(pool?.k.t ?? 0, t);
  return { k: { c: decayedAt(pool?.k, t, hl) + k, t: at }, n: { c: decayedAt(pool?.n, t, hl) + n, t: at } };
}

/**
 * The share a woken thing is expected to take: what the agent's woken things took before, with `p`
 * as a prior worth `prior` chances, and never less than `p` (an agent whose woken things were
 * one-offs has not shown that a new one can never take a real share).
 */
export function wokenShare(pool: WokenPool | undefined, p: number, prior: number, t: number, hl: number): number {
  const k = decayedAt(pool?.k, t, hl);
  const n = decayedAt(pool?.n, t, hl);
  return Math.min(0.9, Math.max(p, (k + prior * p) / (n + prior)));
}

/** A repertoire takes a week (its weekly cycle) to show; woken evidence weighs in full after it. */
const REPERTOIRE_MS = 7 * 86_400_000;

/**
 * How far the agent's repertoire has shown, 0 to 1 over its first week. A repertoire takes time to
 * show, not only events: in an agent's first week its weekly jobs and the later steps of its life
 * cycles (goods received days after the order) wake for the first time, and a busy young agent has
 * hundreds of events before they do.
 */
function repertoireAge(s: MonitorState, ts: number): number {
  return s.hourSince < 0 ? 0 : Math.min(1, (ts - s.hourSince) / REPERTOIRE_MS);
}

/**
 * k takes among n chances at share p, judged family-wise over the n chances it is read at and the
 * agent's decayed number of wakes: x = −ln(n · wakes · P(≥ k)), mapped by `c`, weighted by the
 * agent's events (warm-up) and its repertoire's age.
 */
export function wokenEvidence(s: MonitorState, ts: number, k: number, n: number, p: number, wakes: number, c: Curve, cfg: ScoringConfig): number {
  const x = binomialTailSurprisalLog(k, n, p) - Math.log(n) - Math.log(Math.max(1, wakes));
  return curve(x, c) * (s.n / (s.n + cfg.warmup.novelty)) * repertoireAge(s, ts);
}
