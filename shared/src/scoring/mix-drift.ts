import { BAND_MEDIUM } from "../bands.ts";
import type { ScoringConfig } from "./config.ts";
import { curve } from "./config.ts";
import { ageDrift, clearAge, type DriftAge } from "./drift.ts";
import type { Reason } from "./features.ts";
import { dict, type MonitorState } from "./state.ts";

/**
 * Slow drift of the action mix (`mix_drift`): one action's share of the agent's steps creeping up
 * over days (extra uses of a tool beside normal work), which no single event, run or hour shows.
 *
 * Reference: the agent's first REF_EVENTS events (use counts per action, at most MIX_ACTIONS
 * actions, those with fewer than MIN_USES dropped), then frozen like amount_drift's reference (a
 * sliding one adapts to any drift slower than its span). Per reference action a with share p0, a
 * one-sided Bernoulli CUSUM of x = 1{action = a} with log-likelihood-ratio increments for a share
 * whose odds are ODDS_RATIO × the reference odds: S = max(0, S + x·ln(p1/p0) + (1 − x)·ln((1 −
 * p1)/(1 − p0))). Under the reference share E[exp(increment)] = 1, so an excursion reaches h with
 * probability ≤ e^−h. Steps come in sessions and bursts: uses beyond the reference's block count
 * + 3 spreads within one block of BLOCK events add nothing (clipping only lowers increments, so the
 * bound holds), the dispersion φ is the variance of the action's block counts in the reference
 * relative to the binomial's (floored at 1), and the evidence is the quasi-likelihood S/φ judged
 * family-wise over the actions tracked and the events seen since the freeze: x = S/φ − ln(m·(n+1)).
 * The CUSUM stops CEILING nats above that line, so it comes down in bounded time once the share
 * does. One-sided: a share that falls (work moved to a newly adopted tool) never fires, and an
 * action absent from the reference (a new tool) is not tracked (action_novelty and young_tool
 * judge it). Each action's age (drift.ts, DriftAge: `f`, `ft`, `ln`, `lt`, `d`) is how long its
 * share has read medium, in events seen since the freeze and in time (absent: not standing).
 * Memory: ≤ 32 actions × { c, s, q, b, w } and its age (5 numbers), plus 5 numbers.
 */
export interface MixAction extends DriftAge {
  /** Reference count; after the freeze, the reference share p0. */
  c: number;
  /** CUSUM (after the freeze). */
  s: number;
  /** Reference blocks: sum of squared block counts (until the freeze), then the dispersion φ. */
  q: number;
  /** Count in the current block. */
  b: number;
  /** Most uses in one block that count (after the freeze): the reference's block count + 3 spreads. */
  w?: number;
}

export interface MixDriftState {
  /** Events counted into the reference; after the freeze, events seen since. */
  n: number;
  /** Reference closed (frozen). */
  frozen: boolean;
  /** Events in the current block, and closed reference blocks. */
  k: number;
  blocks: number;
  /** First event time (for a reference span). */
  t0: number;
  a: Record<string, MixAction>;
}

/** At most this many actions tracked per agent (the most used ones in the reference). */
export const MIX_ACTIONS = 32;
const REF_EVENTS = 500;
/** The reference must also span this long (ms), 0 = only the event count. */
const REF_SPAN_MS = 0;
const BLOCK = 16;
const ODDS_RATIO = 3;
/** A reference action needs this many uses to have a share worth judging. */
const MIN_USES = 3;
/** Nats of evidence above the family-wise line at which the CUSUM stops growing. */
const CEILING = 8;
/**
 * A share that has read medium for a week (weekends and holidays below it included:
 * drift.ts, ageDrift) and at least as many events as the reference took to learn is the agent's
 * new normal: the reference takes the recent share (as a review would) and the CUSUM starts again.
 * A lasting, legitimate change of workload (a new job that uses a tool more) is then medium for a
 * bounded stretch, not for good, which matters because nothing opens a review below high.
 */
const AGE_EVENTS = REF_EVENTS;
/** Longer than a long weekend: a weekly rhythm's weekend below the line is the same drift going on. */
const MIX_GAP = { ms: 4 * 86_400_000 };

function llr(p0: number): { up: number; down: number } {
  const odds = (ODDS_RATIO * p0) / (1 - p0);
  const p1 = odds / (1 + odds);
  return { up: Math.log(p1 / p0), down: Math.log((1 - p1) / (1 - p0)) };
}

export function newMixDrift(t: number): MixDriftState {
  return { n: 0, frozen: false, k: 0, blocks: 0, t0: t, a: dict() };
}

/** The reason on an event of a tracked action: its CUSUM after this event (scoring looks, learning keeps). */
export function mixDrift(s: MonitorState, action: string, cfg: ScoringConfig): Reason | undefined {
  const m = s.mix;
  if (!m || !m.frozen) return undefined;
  const a = m.a[action];
  if (!a) return undefined;
  const tracked = Object.keys(m.a).length;
  const fw = Math.log(tracked * (m.n + 1));
  const cusum = step(a, true, fw);
  const x = cusum / Math.max(1, a.q) - fw;
  const contribution = curve(x, cfg.mixDrift);
  if (contribution < 0.01) return undefined;
  return {
    feature: "mix_drift",
    contribution,
    detail: `${action} has taken a larger share of steps than its reference ${(a.c * 100).toFixed(1)}% more often than chance allows (CUSUM ${cusum.toFixed(1)}, dispersion ${a.q.toFixed(1)})`,
  };
}

/**
 * Learns the event into the reference (until frozen) or every tracked action's CUSUM. `t`: the
 * agent's clock (the latest time seen), so an event stamped back cannot make a share's week older.
 */
export function learnMix(s: MonitorState, action: string, t: number, cfg: ScoringConfig): void {
  const m = (s.mix ??= newMixDrift(t));
  if (!m.frozen) {
    m.n++;
    m.k++;
    let a = m.a[action];
    if (!a) {
      const keys = Object.keys(m.a);
      if (keys.length >= MIX_ACTIONS) {
        // Full: the least used action makes room (the rarest shares are the least reliable anyway).
        let weakest = "";
        let min = Infinity;
        for (const k of keys)
          if (m.a[k]!.c < min) {
            min = m.a[k]!.c;
            weakest = k;
          }
        delete m.a[weakest];
      }
      a = m.a[action] = { c: 0, s: 0, q: 0, b: 0 };
    }
    a.c++;
    a.b++;
    if (m.k >= BLOCK) {
      for (const k in m.a) {
        const x = m.a[k]!;
        x.q += x.b * x.b;
        x.b = 0;
      }
      m.blocks++;
      m.k = 0;
    }
    if (m.n >= REF_EVENTS && t - m.t0 >= REF_SPAN_MS) freeze(m);
    return;
  }
  m.n++;
  const fw = Math.log(Object.keys(m.a).length * (m.n + 1));
  for (const k in m.a) {
    const a = m.a[k]!;
    a.s = step(a, k === action, fw);
    if (k === action) a.b++;
    // The week counts only while the share reads medium (as amount_drift's, learn.ts standing).
    // Counted from the family-wise line (x > 0, a reading of 0.0003), an attacker that kept its
    // share just above the line saw it accepted after a week without one visible mix_drift reason,
    // and raised it again the next week from there: 4 % to 32 % in five weeks, never medium
    // (origin/test/scoring-drift-age.test.ts 'a share steered to stand just above...').
    const standing = curve(a.s / Math.max(1, a.q) - fw, cfg.mixDrift) >= BAND_MEDIUM;
    if (ageDrift(a, standing, m.n, t, AGE_EVENTS, MIX_GAP)) accept(a, s.mixLong[k] ?? 0);
  }
  if (++m.k >= BLOCK) {
    for (const k in m.a) m.a[k]!.b = 0;
    m.k = 0;
  }
}

/**
 * One event into an action's CUSUM. Uses beyond the block's winsor count add nothing (a burst or a
 * session of one tool is a few blocks, not a drift: clipping only lowers the increments, so the
 * e^−h bound still holds), and the CUSUM stops CEILING nats of evidence above the family-wise line
 * (evidence that high is saturated anyway), so it comes down within a bounded time once the share does.
 */
function step(a: MixAction, used: boolean, fw: number): number {
  const { up, down } = llr(a.c);
  const inc = used ? (a.b < (a.w ?? Infinity) ? up : 0) : down;
  return Math.min(Math.max(0, a.s + inc), Math.max(1, a.q) * (fw + CEILING));
}

/** Closes the reference: shares (add-one), dispersion from the closed blocks; rare actions are dropped. */
function freeze(m: MixDriftState): void {
  const n = m.n;
  for (const k of Object.keys(m.a)) {
    const a = m.a[k]!;
    if (a.c < MIN_USES) {
      delete m.a[k];
      continue;
    }
    const p0 = (a.c + 1) / (n + 2);
    // Block counts' variance over the closed blocks against the binomial's BLOCK · p0 (1 − p0).
    const mean = BLOCK * p0;
    const varB = a.q / Math.max(1, m.blocks) - mean * mean;
    a.c = p0;
    a.q = Math.max(1, varB / (BLOCK * p0 * (1 - p0)));
    a.w = mean + 3 * Math.sqrt(BLOCK * p0 * (1 - p0) * a.q);
    a.s = 0;
    a.b = 0;
  }
  m.frozen = true;
  m.n = 0;
  m.k = 0;
}

/**
 * A review accepted the agent's recent mix: each tracked action's reference share becomes at
 * least its recent share (the long and short action-mix averages), and the CUSUMs start again.
 */
export function acceptMix(s: MonitorState): void {
  const m = s.mix;
  if (!m || !m.frozen) return;
  for (const k in m.a) accept(m.a[k]!, Math.max(s.mixLong[k] ?? 0, s.mixShort[k] ?? 0));
}

/** One action's reference share becomes at least `recent`; its CUSUM starts again. */
function accept(a: MixAction, recent: number): void {
  a.c = Math.min(0.99, Math.max(a.c, recent));
  a.w = BLOCK * a.c + 3 * Math.sqrt(BLOCK * a.c * (1 - a.c) * Math.max(1, a.q));
  a.s = 0;
  clearAge(a);
}
