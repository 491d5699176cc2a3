import type { ScoredInput } from "../events.ts";
import { curve, type ScoringConfig } from "./config.ts";
import { binomialTailSurprisalLog, type Reason } from "./features.ts";
import { bumpTotal, decayedAt, type MonitorState } from "./state.ts";

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
/** How long an agent's tool repertoire takes to show: a week (its weekly cycle); young_tool weighs in full after it. */
export const REPERTOIRE_MS = 7 * 86_400_000;
/** Tools watched at once (the oldest watch gives way). */
const MAX_WATCHES = 4;

/** Weight (events) of the prior share before the agent's own woken tools speak: one watch. */
const PRIOR_EVENTS = WATCH_EVENTS;

/**
 * The share of its next events a woken tool is expected to take: what the agent's woken tools took
 * before (its ended watches' uses over their events, decayed like the behaviour counts, with an
 * average tool's share as a prior worth one watch), and never less than an average tool's share
 * (1 / distinct tools when it woke). An agent whose woken tools are one-offs has not shown that a
 * new tool can never take a real share of its work: a tool replacing one of its ordinary tools does.
 */
function wokenShare(s: MonitorState, w: YoungWatch, t: number, hl: number): number {
  const k = decayedAt(s.youngPool?.k, t, hl);
  const n = decayedAt(s.youngPool?.n, t, hl);
  return Math.min(0.9, Math.max(w.p, (k + PRIOR_EVENTS * w.p) / (n + PRIOR_EVENTS)));
}

/**
 * How far the agent's repertoire has shown, 0 to 1 over its first week. A repertoire takes time to
 * show, not only events: in an agent's first week its weekly jobs and the later steps of its life
 * cycles (goods received days after the order) wake for the first time, and a busy young agent has
 * hundreds of events before they do.
 */
export function repertoireAge(s: MonitorState, ts: number): number {
  return s.hourSince < 0 ? 0 : Math.min(1, (ts - s.hourSince) / REPERTOIRE_MS);
}

export function youngTool(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): Reason | undefined {
  const w = s.young?.find((x) => x.a === e.action);
  if (!w) return undefined;
  const n = w.n + 1;
  const k = w.k + 1;
  // Two uses after the waking one: a single repeat is action_novelty's.
  if (k < 2) return undefined;
  const hl = cfg.halfLife.behaviour;
  const p = wokenShare(s, w, e.ts, hl);
  const wakes = decayedAt(s.youngWakes, e.ts, hl);
  const x = binomialTailSurprisalLog(k, n, p) - Math.log(n) - Math.log(Math.max(1, wakes));
  const contribution = curve(x, cfg.youngTool) * (s.n / (s.n + cfg.warmup.novelty)) * repertoireAge(s, e.ts);
  if (contribution < 0.01) return undefined;
  return {
    feature: "young_tool",
    contribution,
    detail: `'${e.action}', rarely or never used before, has ${k + 1} of the last ${n + 1} events (the tools it woke before took ${(p * 100).toFixed(1)}%)`,
  };
}

/** An ended watch joins the agent's history of what its woken tools did. */
function poolWatch(s: MonitorState, w: YoungWatch, t: number, hl: number): void {
  if (w.n === 0) return;
  const at = Math.max(s.youngPool?.k.t ?? 0, t);
  s.youngPool = { k: { c: decayedAt(s.youngPool?.k, t, hl) + w.k, t: at }, n: { c: decayedAt(s.youngPool?.n, t, hl) + w.n, t: at } };
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
    if (w.n < WATCH_EVENTS && e.ts - w.t < WATCH_MS) watches.push(w);
    else poolWatch(s, w, e.ts, hl);
  }
  for (const w of watches) {
    w.n++;
    if (w.a === e.action) w.k++;
  }
  if (rare && !watches.some((w) => w.a === e.action)) {
    watches.push({ a: e.action, n: 0, k: 0, t: e.ts, p: 1 / Math.max(1, Object.keys(s.actions).length) });
    if (watches.length > MAX_WATCHES) poolWatch(s, watches.shift()!, e.ts, hl);
    bumpTotal((s.youngWakes ??= { c: 0, t: 0 }), e.ts, hl);
  }
  // Assigned, never deleted: `delete` would turn the state object into a slow dictionary for the
  // engine (every later field read on it pays; measured +30–40 % CPU per event on bench/anomaly). JSON drops undefined.
  s.young = watches.length > 0 ? watches : undefined;
}
