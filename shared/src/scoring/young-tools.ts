import type { ScoredInput } from "../events.ts";
import type { ScoringConfig } from "./config.ts";
import type { Reason } from "./features.ts";
import { bumpTotal, decayedAt, type MonitorState } from "./state.ts";
import { poolWatch, wokenEvidence, wokenShare } from "./woken.ts";

/**
 * Young tools (`young_tool`): a tool the agent had never used, or had used only a few times (a
 * declared scope it never exercised, a tool woken after months), that then takes a larger share of
 * its next events than a tool of this agent takes. action_novelty judges such a tool's first few
 * uses one by one, and after `rareAction` uses it is no longer rare: an agent taken over and driven
 * through a dormant export or payout tool fourteen times in fourteen minutes looked like an agent
 * that had learnt a tool. What is rare is not the fourth use but the share: the woken tool has k of
 * the n events since it woke, which is a binomial tail at the share a woken tool of this agent is
 * expected to take (wokenShare: never less than an average tool's, 1 / distinct tools). A tool
 * adopted into the agent's tasks, or replacing one of its ordinary tools, takes about an ordinary
 * tool's share and is nothing here, however many times it is used.
 *
 * Judged family-wise like amount_over_max: the tail is read at each of the n events and over every
 * tool the agent has woken in its history, so x = −ln(n · wakes · P). Memory: at most MAX_WATCHES
 * watches of { action, n, k, time, share }, for WATCH_EVENTS events or WATCH_MS each, and two
 * decayed counts.
 */
export interface YoungWatch {
  /** The woken action, events since it woke and its uses among them (the waking use excluded), when it woke, an average tool's share then (1 / distinct tools). */
  a: string;
  n: number;
  k: number;
  t: number;
  p: number;
}

/** A watch lasts this many of the agent's events or this long after the tool woke, whichever is first. */
const WATCH_EVENTS = 64;
const WATCH_MS = 2 * 3_600_000;
/** Tools watched at once (the oldest watch gives way). */
const MAX_WATCHES = 4;

/** Weight (events) of the prior share before the agent's own woken tools speak: one watch. */
const PRIOR_EVENTS = WATCH_EVENTS;

/**
 * A watch still running at `ts`. Scoring reads only these: a watch ends when the next event is
 * learned, after that event was scored, so until 2026-12-06 a woken tool's first use after the
 * watch's time ran out was still read against it (and read nothing if any other event came first).
 */
function live(w: YoungWatch, ts: number): boolean {
  return w.n < WATCH_EVENTS && ts - w.t < WATCH_MS;
}

export function youngTool(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): Reason | undefined {
  const w = s.young?.find((x) => x.a === e.action && live(x, e.ts));
  if (!w) return undefined;
  const n = w.n + 1;
  const k = w.k + 1;
  // Two uses after the waking one: a single repeat is action_novelty's.
  if (k < 2) return undefined;
  const hl = cfg.halfLife.behaviour;
  // The share a woken tool is expected to take: never less than an average tool's (w.p).
  const p = wokenShare(s.youngPool, w.p, PRIOR_EVENTS, e.ts, hl);
  const wakes = decayedAt(s.youngWakes, e.ts, hl);
  const alone = wokenEvidence(s, e.ts, k, n, p, wakes, cfg.youngTool, cfg);
  // The tools woken with it, judged together: since the first of the live watches woke, their uses
  // (every waking use but that first one's, and this event) among its events, at m shares. Two
  // dormant tools called in turn each took half of a quiet agent's events, under the share of an
  // average tool of its four (blind world G: 17 calls of two never-used FX execution tools in 8
  // minutes read 0.13 at most).
  const woken = (s.young ?? []).filter((x) => live(x, e.ts));
  let together = 0;
  let kt = 0;
  let nt = 0;
  if (woken.length >= 2) {
    const first = woken.reduce((a, b) => (b.t < a.t ? b : a));
    nt = first.n + 1;
    kt = woken.reduce((sum, x) => sum + x.k, 0) + woken.length;
    together = wokenEvidence(s, e.ts, Math.min(kt, nt), nt, Math.min(0.9, woken.length * p), wakes, cfg.youngTool, cfg);
  }
  const contribution = Math.max(alone, together);
  if (contribution < 0.01) return undefined;
  const what =
    together > alone
      ? `'${e.action}' and ${woken.length - 1} other tool(s) woken with it, rarely or never used before, have ${kt} of the last ${nt} events`
      : `'${e.action}', rarely or never used before, has ${k + 1} of the last ${n + 1} events`;
  return { feature: "young_tool", contribution, detail: `${what} (the tools it woke before took ${(p * 100).toFixed(1)}%)` };
}

/**
 * After scoring: every watch counts the event, expired watches end, and a rare action (fewer than
 * `rareAction` decayed uses before this one, features.actionNovelty) not yet watched starts one.
 */
export function learnYoungTool(s: MonitorState, e: ScoredInput, cfg: ScoringConfig, rare: boolean): void {
  if (!s.young && !rare) return;
  const hl = cfg.halfLife.behaviour;
  const watches: YoungWatch[] = [];
  for (const w of s.young ?? []) {
    if (live(w, e.ts)) watches.push(w);
    else s.youngPool = poolWatch(s.youngPool, w.k, w.n, e.ts, hl);
  }
  for (const w of watches) {
    w.n++;
    if (w.a === e.action) w.k++;
  }
  if (rare && !watches.some((w) => w.a === e.action)) {
    watches.push({ a: e.action, n: 0, k: 0, t: e.ts, p: 1 / Math.max(1, Object.keys(s.actions).length) });
    if (watches.length > MAX_WATCHES) {
      const gone = watches.shift()!;
      s.youngPool = poolWatch(s.youngPool, gone.k, gone.n, e.ts, hl);
    }
    bumpTotal((s.youngWakes ??= { c: 0, t: 0 }), e.ts, hl);
  }
  // Assigned, never deleted: `delete` would turn the state object into a slow dictionary for the
  // engine (every later field read on it pays; measured +30–40 % CPU per event on bench/anomaly). JSON drops undefined.
  s.young = watches.length > 0 ? watches : undefined;
}
