import { inScope } from "../scope.ts";
import { cutCodePoints } from "../unicode.ts";
import type { ScoredInput } from "../events.ts";
import { curve, type ScoringConfig } from "./config.ts";
import { recordRun } from "./amount-run.ts";
import { driftAfter, driftEvidence } from "./drift.ts";
import { activeFromEvents, decayedAt, mad, median, type MonitorState } from "./state.ts";

/** One feature's verdict on one event; `contribution` in [0,1], `detail` for humans. */
export interface Reason {
  feature: string;
  contribution: number;
  detail: string;
}

/** Confidence of a statistic over n observations, against a warm-up of `warmup` (n / (n + warmup)). */
export const conf = (n: number, warmup: number) => n / (n + warmup);
const MIN_REPORTED = 0.01;

function reason(feature: string, contribution: number, detail: string): Reason | undefined {
  return contribution >= MIN_REPORTED ? { feature, contribution, detail } : undefined;
}

/**
 * Surprisal (nats) of seeing `count` out of `total` among `distinct` categories, with add-½
 * smoothing: a never-seen category after 500 events is very surprising, after 5 it is not.
 */
export function surprisal(count: number, total: number, distinct: number): number {
  return -Math.log((count + 0.5) / (total + 0.5 * (distinct + 1)));
}

/**
 * Surprisal (nats) of a never-seen category, calibrated on the agent's own rate of novelty: the
 * Good–Turing estimate of P(new) (categories seen about once / events) or the recent rate at which
 * new categories actually appeared, whichever is larger. An agent whose resources are all fresh
 * ids learns that a new one is ordinary; an agent with a fixed tool set after thousands of events
 * finds a new tool very surprising. With no singletons and no recent novelty this is the add-½
 * surprisal above.
 */
export function novelSurprisal(
  counts: Record<string, { c: number; t: number }>,
  total: number,
  t: number,
  hl: number,
  rate: number,
  distinct: number,
  lag?: { alpha: number; fresh: number },
): number {
  let singletons = 0;
  for (const k in counts) {
    const c = counts[k]!;
    if (decayedAt(c, t, hl) >= 1.5) continue;
    // Used about once, and that within the hour: one of this hour's own new categories.
    if (lag && t - c.t < NOVELTY_LAG_MS) continue;
    singletons++;
  }
  const gt = (singletons + 0.5) / (total + 0.5 * (distinct + 1));
  // With `lag` (tools, not resource kinds): the singletons and the rate as they stood before this
  // hour's own new categories. `fresh` is how many were first used within the hour, each of which
  // added about `alpha` (the rate's learning step) to the rate: nine never-used tools in fifteen
  // minutes must not teach themselves, one by one, that a new tool is ordinary (the fifth read as
  // 1 in 30 where the first was 1 in 500). They are counted by their first use, however often they
  // were used since: counted among the tools used about once, as until 2026-12-06, a burst that
  // called each new tool twice kept every step it added to the rate (the ninth read ordinary).
  const before = Math.max(0, rate - (lag ? lag.alpha * lag.fresh : 0));
  return -Math.log(Math.min(1, Math.max(gt, before)));
}

/**
 * How long a new category counts as the present's, not the agent's history (novelSurprisal): its
 * first uses within the last hour are left out of the null they are judged against, as the hour
 * profiles learn with a lag so that a session at a dead hour does not teach itself the hour.
 */
export const NOVELTY_LAG_MS = 3_600_000;

/** First uses of tools (state.newTools) within NOVELTY_LAG_MS before `ts` (up to NEW_TOOL_RING of them). */
function newToolsSince(s: MonitorState, ts: number): number {
  let k = 0;
  for (const t of s.newTools ?? []) if (t > ts - NOVELTY_LAG_MS && t <= ts) k++;
  return k;
}

/** The learning step of the agent's new-category rates (learn.ts): 1 / (n + 1) while it is young, then 1 %. */
export function newRateStep(n: number): number {
  return n < 50 ? 1 / (n + 1) : 0.01;
}

/**
 * A resource with its identifiers masked, so `customers/8812/orders`, `customers/17/orders` and
 * `customers/cus_9fA2k/orders` are one kind. Query strings and fragments are dropped; a path
 * segment counts as an identifier when it has a digit, or is a long opaque token.
 */
export function resourceKind(resource: string): string {
  const path = resource.toLowerCase().split(/[?#]/, 1)[0]!;
  const parts = path
    .split(/([/:@=]+)/)
    .slice(0, 12)
    .map((seg, i) => {
      if (i % 2 === 1) return seg; // separators
      if (seg === "") return seg;
      return seg
        .split(/([._-])/)
        .map((tok, j) => (j % 2 === 1 ? tok : /\d/.test(tok) || tok.length >= 16 ? "#" : tok))
        .join("")
        .replace(/#([._-]#)+/g, "#");
    });
  // By code point: a cut through an emoji's surrogate pair left text no JSON store takes.
  return cutCodePoints(parts.join(""), 96);
}

export function outOfScope(e: ScoredInput, scopes: readonly string[], cfg: ScoringConfig): Reason | undefined {
  if (scopes.length === 0 || inScope(scopes, e.action)) return undefined;
  return reason("out_of_scope", cfg.outOfScope, `action '${e.action}' is not covered by the declared scopes`);
}

/**
 * `x` (nats) is the action's own rarity when it is rare: a step into a rare action is rare after
 * any predecessor and on any object, so transition_novelty and object_step judge such a step only
 * by what its context adds to that rarity (their surprisal minus `x`), not as a second and third
 * count of the same first uses of a tool.
 */
export function actionNovelty(
  s: MonitorState,
  e: ScoredInput,
  scopes: readonly string[],
  cfg: ScoringConfig,
): { r?: Reason; novel: boolean; rare: boolean; x: number } {
  const hl = cfg.halfLife.behaviour;
  const c = decayedAt(s.actions[e.action], e.ts, hl);
  const total = decayedAt(s.actionTotal, e.ts, hl);
  const novel = c < 0.5;
  // A tool used once or twice is still rare: its next few uses keep (smaller, by surprisal) evidence,
  // so a dormant tool woken up and used repeatedly adds up instead of being normal after one use;
  // after that, young_tool judges the share of the agent's events the woken tool takes (`rare` starts its watch).
  if (c >= cfg.rareAction) return { novel, rare: false, x: 0 };
  // Declared scopes are a weak prior: naming a tool makes its first use a little less surprising,
  // never normal (a declared but never-used tool is exactly what a takeover reaches for).
  const explicit = scopes.includes(e.action);
  const prior = explicit ? cfg.scopePrior.explicit : inScope(scopes, e.action) ? cfg.scopePrior.wildcard : 1;
  const distinct = Math.min(Object.keys(s.actions).length, cfg.caps.actions);
  const x = novel
    ? novelSurprisal(s.actions, total, e.ts, hl, s.actionNewRate, distinct, { alpha: newRateStep(s.n), fresh: newToolsSince(s, e.ts) })
    : surprisal(c, total, distinct);
  const contribution = curve(x, cfg.actionNovelty) * prior * conf(s.n, cfg.warmup.novelty);
  const what = novel ? `first use of '${e.action}'` : `use ${Math.round(c) + 1} of the rarely used '${e.action}'`;
  return { r: reason("action_novelty", contribution, `${what} after ${Math.round(total)} events`), novel, rare: true, x };
}

export function noveltyRun(s: MonitorState, cfg: ScoringConfig): Reason | undefined {
  // s.noveltyRun counts recent novel actions/resource kinds (decays ×0.8 per event, so it spans
  // ~5 events); an agent that explores a long tail of tools expects some, so compare with its own
  // long-run novelty rate.
  const expected = 5 * s.novelRate;
  const z = (s.noveltyRun - expected) / Math.sqrt(expected + 0.25);
  const contribution = curve(z, cfg.noveltyRun) * conf(s.n, cfg.warmup.novelty);
  return reason("novelty_run", contribution, `${s.noveltyRun.toFixed(1)} recent first-time actions or resource kinds (usual ${expected.toFixed(1)})`);
}

/** First uses of tools remembered for noveltyBurst (a ring of their times). */
export const NEW_TOOL_RING = 16;
/**
 * First uses are not independent: a task the agent has never done brings its tools together (a
 * devops agent's first incident: acknowledge, roll back, annotate, within a minute). The binomial
 * is read as a quasi-binomial with this dispersion (its surprisal divided by it), so about two
 * new tools count as one new task.
 */
const NEW_TOOLS_PER_TASK = 2;

/**
 * Several first-time tools within the hour (tool discovery, probing) as a binomial tail against
 * the agent's own calibrated chance that an event is a first use (P(new) = e^−x, actionNovelty's
 * `x` for this first use, which leaves the hour's own new tools out): k first uses among the
 * hour's n events, judged family-wise over the agent's history (about N / n such windows),
 * x = −ln(P(≥ k)) / NEW_TOOLS_PER_TASK − ln(N / n), reported as `novelty_run`. novelty_run's own
 * statistic, a run of novel events decaying ×0.8 per event, saturates at five (every event novel), so nine never-used
 * tools in thirteen minutes read the same medium as three (world C's tool discovery, 0.61); the
 * count over the hour keeps growing with each. Two new tools in an hour (an adoption, a
 * replacement) are not judged here.
 */
export function noveltyBurst(s: MonitorState, e: ScoredInput, x: number, cfg: ScoringConfig): Reason | undefined {
  const since = e.ts - NOVELTY_LAG_MS;
  const k = 1 + newToolsSince(s, e.ts);
  if (k < 3) return undefined;
  let n = 1;
  for (let i = s.recentTs.length - 1; i >= 0 && s.recentTs[i]! > since; i--) if (s.recentTs[i]! <= e.ts) n++;
  // The ring holds the last 256 events: when the hour holds more, its events are counted from the
  // per-minute buckets instead (learn.countMinute, this event's minute included; whole minutes, so
  // up to one minute's worth more). Until 2026-12-06 n stopped at 257, and on an agent busier
  // than that k first uses read rarer than they are: the tail grows faster than the family-wise
  // count shrinks as n falls ((k/2 − 1) · ln(true n / 257) nats too many).
  if (s.recentTs.length >= 256 && s.recentTs[0]! > since) {
    const first = Math.floor(since / 60_000);
    const last = Math.floor(e.ts / 60_000);
    let counted = 0;
    for (const key in s.minutes) {
      const m = Number(key);
      if (m >= first && m <= last) counted += s.minutes[key]![0];
    }
    n = Math.max(n, counted);
  }
  n = Math.max(n, k);
  const p = Math.min(0.5, Math.exp(-x));
  const total = decayedAt(s.actionTotal, e.ts, cfg.halfLife.behaviour);
  const fw = binomialTailSurprisalLog(k, n, p) / NEW_TOOLS_PER_TASK - Math.log(Math.max(1, total / n));
  const contribution = curve(fw, cfg.noveltyBurst) * conf(s.n, cfg.warmup.novelty);
  return reason(
    "novelty_run",
    contribution,
    `${k} first-time tools in the last hour among its ${n} events (a first use is 1 in ${Math.round(1 / p)} of this agent's events)`,
  );
}

/** `implied`: nats of the step's surprisal already explained by the action's own rarity (actionNovelty's `x`). */
export function transitionNovelty(s: MonitorState, e: ScoredInput, cfg: ScoringConfig, implied = 0): Reason | undefined {
  const prev = s.prevAction;
  if (!prev || !s.actions[e.action]) return undefined; // a new action is judged by action_novelty
  const hl = cfg.halfLife.behaviour;
  const key = `${prev}\u0000${e.action}`;
  const c = decayedAt(s.transitions[key], e.ts, hl);
  if (c >= 0.5) return undefined;
  const out = decayedAt(s.outgoing[prev], e.ts, hl);
  const distinct = s.successors[prev] ?? 0;
  const x = surprisal(c, out, distinct) - implied;
  const contribution = curve(x, cfg.transitionNovelty) * conf(s.n, cfg.warmup.novelty);
  return reason("transition_novelty", contribution, `'${prev}' → '${e.action}' never seen after ${Math.round(out)} uses of '${prev}'`);
}

export function resourceKindNovelty(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): { r?: Reason; novel: boolean } {
  if (!e.resource) return { novel: false };
  const kind = resourceKind(e.resource);
  const hl = cfg.halfLife.behaviour;
  const c = decayedAt(s.resourceKinds[kind], e.ts, hl);
  if (c >= 0.5) return { novel: false };
  const total = decayedAt(s.resourceKindTotal, e.ts, hl);
  // Not lagged like a tool's (actionNovelty): a new resource family arrives as several new kinds at
  // once (its collection, items, sub-paths), so a burst of them is one adoption, judged as before.
  const x = novelSurprisal(s.resourceKinds, total, e.ts, hl, s.kindNewRate, Object.keys(s.resourceKinds).length);
  const contribution = curve(x, cfg.resourceKindNovelty) * conf(s.n, cfg.warmup.novelty);
  return { r: reason("resource_novelty", contribution, `first access to a resource like '${kind}'`), novel: true };
}

/**
 * Events in the last 60 s (sliding, by event time, this event included) against the agent's own
 * busy minutes (98th percentile of its recent active minutes): a burst is measured against what
 * the agent does at its busiest, not on average. The last 10 s are counted for the reason only.
 * Until 2026-12-06 the statistic read max(60 s, 10 s) counts, which is always the 60 s count (the
 * 10 s window lies inside it) while the comment promised the 10 s window would see a burst from its
 * first seconds. Read as a rate (× 6) it would, and it makes every multi-step task's few-second
 * flurry a burst: FPR(high) 0.010 → 0.055 % on world B, 0.047 → 0.160 % on A dev, 3–5 clean
 * agents auto-revoked per world, no episode gained (bench/README.md, eighteenth stop).
 */
export function rateBurst(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): Reason | undefined {
  if (s.minuteCounts.length < 5) return undefined;
  let k60 = 1;
  let k10 = 1;
  for (let i = s.recentTs.length - 1; i >= 0; i--) {
    const dt = e.ts - s.recentTs[i]!;
    if (dt < 0) continue;
    if (dt >= 60_000) break;
    k60++;
    if (dt < 10_000) k10++;
  }
  const x = Math.log((k60 + 1) / (s.ratePeak + 2));
  const contribution = curve(x, cfg.rateBurst) * conf(s.minuteCounts.length, cfg.warmup.rate);
  return reason("rate_burst", contribution, `${k60} events in the last minute (${k10} in 10 s) vs at most ~${Math.round(s.ratePeak)}/min usually`);
}

export function resourceFanout(s: MonitorState, newResources: number, cfg: ScoringConfig): Reason | undefined {
  if (s.minuteFresh.length < 5 || newResources === 0) return undefined;
  const x = Math.log((newResources + 1) / (s.fanoutPeak + 2));
  const contribution = curve(x, cfg.resourceFanout) * conf(s.minuteFresh.length, cfg.warmup.rate);
  return reason("resource_fanout", contribution, `${newResources} distinct new resources this minute vs at most ~${Math.round(s.fanoutPeak)} usually`);
}

export function sequenceRun(s: MonitorState, novelTransition: boolean, cfg: ScoringConfig): Reason | undefined {
  const run = s.seqRun * 0.8 + (novelTransition ? 1 : 0);
  const expected = 5 * s.seqRate;
  const z = (run - expected) / Math.sqrt(expected + 0.25);
  const contribution = curve(z, cfg.sequenceRun) * conf(s.n, cfg.warmup.novelty);
  return reason("sequence_run", contribution, `${run.toFixed(1)} never-seen steps in a row (usual ${expected.toFixed(1)})`);
}

/**
 * How much less likely this step is after the previous action than the action is on its own
 * (nats): ln P(b) − ln P(b | a), with P(b | a) smoothed toward P(b) by one pseudo-use of `a`.
 * Positive for a step that rarely follows `a`, whether or not it was ever seen; 0 for a step
 * that needs no judgement (first event, or a never-seen action, which action_novelty judges).
 */
export function stepSurprise(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): number {
  const prev = s.prevAction;
  const hl = cfg.halfLife.behaviour;
  const cb = decayedAt(s.actions[e.action], e.ts, hl);
  if (!prev || cb < 0.5) return 0;
  const total = decayedAt(s.actionTotal, e.ts, hl);
  const pb = (cb + 0.5) / (total + 0.5 * (Math.min(Object.keys(s.actions).length, cfg.caps.actions) + 1));
  const cab = decayedAt(s.transitions[`${prev}\u0000${e.action}`], e.ts, hl);
  const out = decayedAt(s.outgoing[prev], e.ts, hl);
  return Math.log(pb) - Math.log((cab + pb) / (out + 1));
}

/** Raw step surprises runStep remembers: a never-seen step counts in full once one of these was as surprising. */
export const RUN_MEMORY = 3;

/**
 * The step's surprise as it enters the run (sequence_surprise). A never-seen step is about
 * ln(uses of its predecessor) nats, a dozen spreads above a strict agent's usual, so on its own it
 * would make a "run" of one, and transition_novelty already judges that step: it enters at most
 * as surprising as the largest of the previous RUN_MEMORY steps. A second unlikely step close
 * behind counts in full, and so does every one after it; a seen but unlikely step always does.
 */
export function runStep(s: MonitorState, d: number, novel: boolean): number {
  const last = s.seq.last;
  if (!novel || !last || last.length === 0) return d;
  return Math.min(d, Math.max(...last));
}

/**
 * A run of unlikely steps (an impossible sequence: tasks done backwards, steps skipped) against
 * the agent's own usual run: the recent average step surprise (~4 events) as a z-score against
 * its long-run mean and spread. Agents that interleave many tasks have a wide spread and need
 * a stronger run; a strict pipeline needs only a few reversed steps.
 */
export function sequenceSurprise(s: MonitorState, d: number, cfg: ScoringConfig): Reason | undefined {
  if (s.seq.n < 100) return undefined;
  const run = s.seq.short * 0.75 + 0.25 * d;
  // Spread floored at 0.5 nats: on a strict pipeline one odd step is not yet a run.
  const z = (run - s.seq.mean) / Math.sqrt(s.seq.v + 0.25);
  const contribution = curve(z, cfg.sequenceSurprise) * conf(s.seq.n, cfg.warmup.novelty * 5);
  return reason(
    "sequence_surprise",
    contribution,
    `recent steps are unusually unlikely in this order (${run.toFixed(1)} nats per step vs a usual ${s.seq.mean.toFixed(1)}, z ${z.toFixed(1)})`,
  );
}

/**
 * The least spread a robust z of read volume is measured in: one record (or byte) more than the
 * median, in log space. Counts are whole: a lookup that returns one customer nearly every time has
 * a median of 1 and a MAD of 0, and the 5% floor made a family account of 5 records a robust z of
 * 22, high (blind world F auto-revoked a clean support agent on one; 2 records read z 8). One
 * record more is the finest change a count can show, so a z below it means nothing. Amounts are
 * not counted in units a step of which is a large share of the median: none for them.
 */
function countStep(label: SeriesLabel, med: number): number {
  return label === "volume" ? Math.log1p(Math.expm1(med) + 1) - med : 0;
}

/**
 * The spread a robust z of a series' log values is measured in: 1.4826 · MAD, floored at 5 % in
 * log space (an agent that always pays the same amount does not divide by zero) and, for read
 * volume, at one record more than the median (countStep). Shared by the z against the recent values
 * and the one against the frozen reference.
 */
function robustSpread(xs: number[], med: number, label: SeriesLabel): number {
  return Math.max(1.4826 * mad(xs, med) + 0.05, countStep(label, med));
}

/** Reference values at least as large as a value that make it ordinary for amount_spike / volume_spike (4 of up to 128: ≥ 3 %). */
export const REF_ORDINARY = 4;

/** Values a series needs before its own tails are judged (amountFeatures; learn.judgedKey falls back below it). */
export const SERIES_MIN = 8;
/**
 * The action of the agent-wide series (every action's amounts in a currency, every action's read
 * volume in a unit): no action name can start with U+0001 (learn.judgedKey, learn.wideKey).
 */
export const AGENT_WIDE = "\u0001";
/**
 * The agent-wide series of its amounts in every currency (and none): the yardstick of an amount in
 * a currency it has fewer than SERIES_MIN values in (learn.judgedKey). Currencies differ in scale,
 * but by less than the orders of magnitude that make an amount an anomaly, and a currency the agent
 * never used must not be a way around amount_over_max. It counts every amount, so no amount series
 * has more values (`seen`) and none outlasts it under the cap (learn.learnSeries evicts the rarest).
 */
export const ANY_CURRENCY = `${AGENT_WIDE}|*`;

/** What a numeric series measures: money moved (`amount_*` reasons) or data read (`volume_*`). */
export type SeriesLabel = "amount" | "volume";

/**
 * Robust tails of one numeric value against the agent's own series for the key (per action and
 * currency, or per action and unit for read volume): beyond the largest recent value, robust z
 * against the recent median, and drift of the recent median from a reference frozen after the series' first values.
 */
export function amountFeatures(s: MonitorState, e: ScoredInput, key: string, cfg: ScoringConfig, value = e.amount, label: SeriesLabel = "amount"): Reason[] {
  if (value === undefined) return [];
  const series = s.amounts[key];
  if (!series || series.recent.length < SERIES_MIN) return [];
  const x = Math.log1p(value);
  const unit = label === "amount" ? (e.currency ? " " + e.currency : "") : ` ${key.split("|#")[1] ?? ""}`;
  const med = median(series.recent);
  const z = (x - med) / robustSpread(series.recent, med, label);
  const w = conf(series.seen, cfg.warmup.amount);
  // Beyond the agent's own largest values: an exceedance p-value from its top values ever, with a
  // Pareto tail (Hill estimate of the mean excess in log space) beyond the largest. An agent that
  // regularly moves big tickets has a heavy tail and a high top, so another big ticket is not rare.
  // At least 4 values either way (the recent ring holds SERIES_MIN or more), so the tail below always has a Hill estimate.
  const top = series.top && series.top.length >= 4 ? series.top : [...series.recent].sort((a, b) => b - a).slice(0, 16);
  const n = Math.max(series.seen, series.recent.length);
  const out: Reason[] = [];
  let tail = 0;
  let overMax = x - top[0]!;
  if (x >= top[top.length - 1]!) {
    let excess = 0;
    for (const v of top) excess += v - top[top.length - 1]!;
    const beta = Math.max(0.1, excess / (top.length - 1));
    let above = 0;
    for (const v of top) if (v >= x) above++;
    const p = overMax > 0 ? Math.exp(-overMax / beta) / (n + 1) : (above + 1) / (n + 1);
    tail = -Math.log(p);
  }
  overMax = Math.max(overMax, 0);
  // Judged family-wise over the agent's own history: among n values, one with per-event tail p
  // turns up n·p times by chance, so -ln(n·p) is how surprising it is that the agent EVER moved it.
  // A 1-in-67,000 read after 2,500 reads is not extreme; the same after 250 is.
  // Several values of the run beyond everything before them are judged together (amount-run.ts):
  // each alone is measured against a tail its own run has already raised.
  const run = recordRun(series, x);
  const single = tail - Math.log(n + 1);
  const byRun = run !== undefined && run.x > single;
  const c0 = curve(byRun ? run.x : single, cfg.amountMaxRatio) * w;
  // Large amounts are the risk; unusually small ones count a third.
  // A value typical of the agent's early history is not a spike because its recent values run
  // lower (a nightly batch's big reads after a day of single-record lookups): the upward z is the
  // smaller of the z against the recent values and against the frozen reference, and none at all
  // for a value at most as large as REF_ORDINARY of the reference's (a share the agent moved from
  // the start, however bimodal: a robust z of a two-mode series has the minor mode beyond its MAD).
  // The frozen reference's median, once (the spike and the drift below both read it).
  const refMed = series.ref.length >= 32 ? median(series.ref) : undefined;
  let zUp = z;
  if (z > 0 && refMed !== undefined) {
    let atLeast = 0;
    for (const v of series.ref) if (v >= x) atLeast++;
    zUp = atLeast >= REF_ORDINARY ? 0 : Math.min(z, (x - refMed) / robustSpread(series.ref, refMed, label));
  }
  const spike = curve(z > 0 ? Math.max(0, zUp) : -z / 3, cfg.amountSpike) * w;
  // Both test "too large": the stronger speaks (noisy-OR of the two would count one value twice).
  const r0 =
    c0 >= spike
      ? reason(
          `${label}_over_max`,
          c0,
          byRun
            ? `${value}${unit}: ${run.k} of the last ${run.m} ${label}s are beyond the largest before them, by ${run.ratio.toFixed(1)}× at least (${n} ${label}s, family-wise p ${Math.exp(-run.x).toExponential(1)})`
            : `${value}${unit} is ${Math.exp(overMax).toFixed(1)}× the largest of ${n} ${label}s (tail p ${Math.exp(-tail).toExponential(1)})`,
        )
      : undefined;
  if (r0) out.push(r0);
  const r1 =
    spike > c0
      ? reason(
          `${label}_spike`,
          spike,
          `${value}${unit} is ${Math.expm1(x - med) >= 0 ? Math.exp(x - med).toFixed(1) + "×" : "far below"} the usual ${Math.expm1(med).toFixed(2)} (robust z ${z.toFixed(1)})`,
        )
      : undefined;
  if (r1) out.push(r1);
  // The pooled series only measures size: its drift is every currency's, not this one's.
  if (refMed !== undefined && key !== ANY_CURRENCY) {
    // Slow drift: a CUSUM of ranks against the frozen reference (the series' first values), drift.ts.
    const cusum = driftAfter(series.drift, series.ref, x, n);
    const recentMed = median(series.recent.slice(-24));
    const r2 = reason(
      `${label}_drift`,
      curve(driftEvidence(series.drift, cusum, n), cfg.amountDrift) * w,
      `${label}s have run above the reference (the first ${series.ref.length}) more often than chance allows: CUSUM ${cusum.toFixed(1)}, recent median ${Math.expm1(recentMed).toFixed(2)} vs ${Math.expm1(refMed).toFixed(2)}`,
    );
    if (r2) out.push(r2);
  }
  // The agent-wide series (learn.judgedKey): say so, the action's own history is too short to judge.
  if (key === ANY_CURRENCY)
    for (const r of out) r.detail += `, against all its amounts in any currency (${e.currency ? `'${e.currency}'` : "no currency"} has too few of its own)`;
  else if (key.startsWith(AGENT_WIDE)) for (const r of out) r.detail += `, against all its actions' ${label}s ('${e.action}' has too few of its own)`;
  return out;
}

/** -ln P(X ≥ k) for X ~ Binomial(n, p), summed exactly (n ≤ 20). */
export function binomialTailSurprisal(k: number, n: number, p: number): number {
  let tail = 0;
  let term = Math.pow(1 - p, n); // P(X = 0)
  for (let i = 0; i <= n; i++) {
    if (i >= k) tail += term;
    term *= ((n - i) / (i + 1)) * (p / (1 - p));
  }
  return -Math.log(Math.max(tail, 1e-300));
}

/**
 * Failures among the last 20 outcomes (this one included) against the agent's own long-run
 * failure rate, as a binomial tail: a transient blip of 2–3 errors is ordinary for an agent that
 * fails 3% of the time; 8 of 20 is not.
 */
export function errorStorm(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): Reason | undefined {
  const window = [...s.outcomes.slice(-19), e.outcome === "success" ? 0 : 1];
  const k = window.reduce((a, b) => a + b, 0);
  if (k < 2) return undefined;
  // Smoothed base rate: the long EWMA, pulled toward 2% while the agent is young.
  const n0 = Math.min(s.outcomeN, 400);
  const base = Math.min(Math.max((s.errLong * n0 + 0.02 * 20) / (n0 + 20), 0.005), 0.9);
  const x = binomialTailSurprisal(k, window.length, base);
  const contribution = curve(x, cfg.errorStorm) * conf(s.outcomeN, cfg.warmup.outcome);
  return reason("error_ratio", contribution, `${k} of the last ${window.length} events failed or were denied vs a usual ${(base * 100).toFixed(1)}%`);
}

/** Hour of the week (0 = Sunday 00:00 UTC). */
export function hourOfWeek(ts: number): number {
  const d = new Date(ts);
  return d.getUTCDay() * 24 + d.getUTCHours();
}

/**
 * How rare the 3-hour window around the event's hour of the week is for this agent, and how long
 * it has been active there, in units of independent observations: the profiles count the clock
 * hours the agent was active in each hour (one per epoch hour, however many events), and a
 * session's length is its active 10-minute blocks, so the evidence grows with the days the agent
 * had to show the hour, not with how busy it was (counted in events, a never-seen hour after N
 * events was ≈ ln N: a busy agent's one ordinary task at 22:54 read as high).
 *
 * One event: −ln(7 · p), p the window's share of the agent's active clock hours on this weekday
 * (weekSlot), ≈ ln(2 · active hours) for a window never worked: a one-off task there after weeks
 * of office hours is medium at most. The session's active 10-minute blocks are reported, not
 * counted as evidence: once the hour is active, how many blocks it fills says how busy the agent
 * is, not when (a session that lasts at a dead hour is high as an episode, sustained_anomaly).
 * Both profiles learn with a 2-hour lag (learn.ts), so a session at a dead hour does not teach
 * itself that the hour is normal; a review that accepts the activity folds it in at once
 * (feedback.acceptAsNormal).
 */
/** The unit of a session's length at an hour: 10 minutes, six per clock hour. */
export const HOUR_UNIT_MS = 600_000;
const UPH = 3_600_000 / HOUR_UNIT_MS;
/**
 * The agent's hour profile as it stands at `ts`, in active clock hours: the decay since it was last
 * folded, the decayed total, the days of history it stands for (at most the half-life's mean age,
 * ~43 days), active clock hours per day, and `slot(hour, at)`: the share of the agent's active
 * hours that falls in the 3-hour window around `hour` on `at`'s weekday (with the hour's count of
 * its own and its neighbours, `near`). Undefined while the profile is too young to judge an hour
 * (fewer than 24 decayed events or no active hour). unusualHour and owedWork read the same model.
 */
/** Active clock hours at an hour of day and its neighbours (undecayed): working a little late is not working in the dead of night. */
export function activeNear(hours: readonly number[], hour: number): number {
  return hours[(hour + 23) % 24]! + hours[hour]! + hours[(hour + 1) % 24]!;
}

function hourModel(s: MonitorState, ts: number, cfg: ScoringConfig) {
  const decay = Math.pow(0.5, Math.max(0, ts - s.hoursT) / cfg.halfLife.hour);
  if (s.hoursTotal * decay < 24) return undefined;
  const act = s.active ?? activeFromEvents(s);
  const total = act.total * decay;
  if (total <= 0) return undefined;
  const daysSeen = s.hourSince < 0 ? 1 : Math.max(1, (s.hoursT - s.hourSince) / 86_400_000);
  const horizon = Math.min(daysSeen, cfg.halfLife.hour / 86_400_000 / Math.LN2);
  const dayStart = agentDayStart(act.hours);
  const slot = (hour: number, at: number) => {
    // The hour and its neighbours: working a little late is not working in the dead of night.
    const near = activeNear(act.hours, hour) * decay;
    const pDay = (near + 0.5) / (total + 0.5 * 8);
    return { near, p: cfg.weekWeight > 0 ? weekSlot(act.week, s, at, hour, pDay, decay, total, cfg.weekWeight, dayStart) : pDay / 7 };
  };
  return { act, total, decay, horizon, perDay: total / horizon, slot };
}

/**
 * The least probability a 3-hour window of the day has for an agent that turns up off its profile:
 * its share of active hours at an hour of day its grown profile had never seen (learn.foldHours's
 * `off`, add-½ over all its active hours), spread over the hours of day it does not work. A profile
 * is a mixture of the agent's habits and its stray hours, and the hour profile alone (add-½ per
 * window) read every stray hour of an agent that has had many as if it had never had one: a loan
 * underwriter with six stray hours in 195 was auto-revoked at its seventh, an ordinary application
 * at 07:00 UTC (blind world H). An agent that has never strayed keeps the floor below the profile's
 * own (½ ÷ 8 of its hours over 8 windows), so its odd hours read as before.
 */
function offProfileFloor(act: { hours: number[]; off?: number }, total: number, decay: number): number {
  let dead = 0;
  for (const h of act.hours) if (h * decay < 0.5) dead++;
  return (3 * ((act.off ?? 0) * decay + 0.5)) / (total + 1) / Math.max(3, dead);
}

/**
 * How improbable (nats) the silence before a session must be for the session to count as deferred
 * work: −Σ ln(1 − P(active)) over the silent hours ≥ 2, a silence the agent's own hour-of-week
 * profile gives less than a one-in-seven chance. Chosen on bench/anomaly's worlds A and B, where
 * every odd-hours attack but three followed a silence under 1.6 nats (its usual nights and
 * weekends) and the three above it were missed anyway (bench/README.md, fourteenth stop).
 */
export const DEFERRED_WORK_NATS = 2;
/** The longest silence read as an outage (a day): longer, the agent was away, not held up. */
export const DEFERRED_WORK_MAX_MS = 86_400_000;

/**
 * Work the agent owed when `e` starts a session (an hour or more after its previous event): the
 * active clock hours the hour-of-week model (hourModel, unusualHour's own) expected in the silence
 * (at most DEFERRED_WORK_MAX_MS of it), if the silence was improbable (DEFERRED_WORK_NATS), else 0. A session after an agent
 * skipped hours it normally works is deferred work: a queue drained after an outage, at whatever
 * hour the agent came back. The credit lasts as many hours as it owed (at least one).
 */
export function owedWork(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): { t: number; hours: number; fresh: boolean } {
  if (e.ts - s.lastTs < 3_600_000 || s.n === 0) {
    const o = s.owed;
    return o && e.ts < o.t + Math.max(1, o.hours) * 3_600_000 ? { ...o, fresh: false } : { t: e.ts, hours: 0, fresh: false };
  }
  // An outage's backlog follows hours of silence; an agent back after days away is a dormant
  // credential in use again, which must not be excused as deferred work.
  if (e.ts - s.lastTs > DEFERRED_WORK_MAX_MS) return { t: e.ts, hours: 0, fresh: true };
  const model = hourModel(s, e.ts, cfg);
  if (!model) return { t: e.ts, hours: 0, fresh: true };
  let hours = 0;
  let nats = 0;
  const last = Math.floor(e.ts / 3_600_000) - 1;
  for (let hh = Math.ceil(s.lastTs / 3_600_000); hh <= last; hh++) {
    const at = hh * 3_600_000;
    // P(active in this clock hour): its share of the agent's active hours per week (p covers 3 hours).
    const q = Math.min(0.95, (model.perDay * 7 * model.slot(new Date(at).getUTCHours(), at).p) / 3);
    hours += q;
    nats -= Math.log(1 - q);
  }
  return { t: e.ts, hours: nats >= DEFERRED_WORK_NATS ? hours : 0, fresh: true };
}

export function unusualHour(s: MonitorState, e: ScoredInput, cfg: ScoringConfig, owed = 0): Reason | undefined {
  const h = new Date(e.ts).getUTCHours();
  const model = hourModel(s, e.ts, cfg);
  if (!model) return undefined;
  const { act, total, perDay } = model;
  // Active blocks per active hour (how much of an hour it fills).
  const fill = Math.min(UPH, Math.max(1, act.blocks / act.total));
  // Every window is read on this event's weekday, the earlier clock hours of the session included.
  const slot = (hour: number) => model.slot(hour, e.ts);
  const here = slot(h);
  // Deferred work (owedWork): owing H active hours makes activity at an odd hour (1 + H) times likelier.
  const single = -Math.log(Math.max(7 * here.p, offProfileFloor(act, total, model.decay))) - Math.log1p(owed);
  // The session: distinct active 10-minute blocks in the last hour, this event's included.
  const block = Math.floor(e.ts / HOUR_UNIT_MS);
  const hourStart = Math.floor(e.ts / 3_600_000) * UPH;
  const seen = new Set<number>([block]);
  for (let i = s.recentTs.length - 1; i >= 0; i--) {
    if (s.recentTs[i]! <= (act.cleared ?? -1)) break; // a review accepted what came before
    const b = Math.floor(s.recentTs[i]! / HOUR_UNIT_MS);
    if (b > block) continue;
    if (b <= block - UPH) break;
    seen.add(b);
  }
  // Blocks of earlier clock hours count against the least rare of the hours they fall in.
  let p = here.p;
  const hours = new Set<number>();
  for (const b of seen) if (b < hourStart) hours.add(Math.floor(b / UPH));
  for (const eh of hours) p = Math.max(p, slot((h + 24 - (hourStart / UPH - eh)) % 24).p);
  const k = seen.size;
  // The session, for the reason: its active blocks against those an hour at this slot is expected
  // to hold (P(the hour is active) × the agent's blocks per active hour; owed hours expected too).
  // It is not evidence of its own. Under a hurdle (the hour at this slot is active at all, then
  // fills its blocks as the agent's active hours do), the blocks' likelihood is the same at this
  // slot as at the agent's most usual one, so they say how busy the hour is, not when it is: only
  // its start at this slot is about time, and that is `single`. Until 2026-12-06 each block was
  // read as rare again (a geometric tail on the expected blocks, family-wise over blocks), which
  // made a sporadic agent's busy hour at its usual 10:00, on a weekday its short history had not
  // shown, six independent surprises, high (world C's clean research assistants); counting the
  // blocks as a hurdle's continuation made an hourly job's one busier hour, at its usual time,
  // high instead. A session that lasts at a dead hour is high as an episode (sustained_anomaly).
  const q = Math.min(0.95, perDay * 7 * (p / 3) + Math.min(owed, 1));
  const expected = q * fill;
  // A daily rhythm needs days to show: full weight after three days of hour history, not after N events.
  const days = s.hourSince < 0 ? 0 : Math.min(1, (s.hoursT - s.hourSince) / (3 * 86_400_000));
  // No event-count warm-up: the counts are active hours, whose add-½ smoothing already makes a
  // young profile unsure (a warm-up in events capped a 1,000-event agent's hour evidence at 0.78).
  const contribution = curve(single, cfg.unusualHour) * days;
  const day = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][new Date(e.ts).getUTCDay()];
  return reason(
    "unusual_hour",
    contribution,
    `activity on ${day} at ${String(h).padStart(2, "0")}:00 UTC is rare for this agent (active near this hour in ${here.near.toFixed(1)} of its ${Math.round(total)} active clock hours; ${k} active 10-min blocks in the last hour vs ${expected.toFixed(2)} expected${owed > 0 ? `; after a silence through ${owed.toFixed(1)} of its usual active hours, read as work it deferred` : ""})`,
  );
}

/**
 * P(this 3-hour window on this weekday) from the hour-of-week profile `week` (active clock hours):
 * the daily window's share pDay × the weekday's share of the agent's active hours (prior: one
 * observed day ÷ `strength`, spread evenly over the week) × how much more or less often than that
 * the agent worked this window on this weekday (observed / expected active hours, each plus one
 * observation). Multiplicative, so a window the agent never works is not made rarer again at each
 * level (a never-seen hour is as rare as the daily profile says, times how rare the weekday is);
 * a weekday-only agent's first Sunday is rare after a week and rarer after four; an agent that
 * works every day looks as it does with the daily profile alone (uniform week: 7 × result = pDay).
 * A weekday is the agent's own day (`off`, agentDayStart), not the UTC day: split at UTC midnight, an
 * office day in UTC−6 ends at 01:00 UTC the next day, so its Friday evenings read as Saturday work
 * and its first real Saturday as no rarer than a late Friday.
 */
function weekSlot(
  week: readonly number[],
  s: MonitorState,
  ts: number,
  h: number,
  pDay: number,
  decay: number,
  total: number,
  strength: number,
  off: number,
): number {
  const dow = new Date(ts - off * 3_600_000).getUTCDay();
  // One working day of the agent's own (active hours per day it worked; calendar days for a state
  // stored before working days were counted): idle weeks do not make its prior weaker.
  const act = s.active;
  const workdays = act?.days !== undefined ? act.days * decay : s.hourSince < 0 ? 1 : (s.hoursT - s.hourSince) / 86_400_000;
  const k = total / Math.max(1, workdays) / strength;
  let dayTot = 0;
  for (let i = 0; i < 24; i++) dayTot += week[(dow * 24 + off + i + 168) % 168]! * decay;
  // The window itself is where the event is in the UTC week (the profile's bins), `h` on its UTC day.
  const w = new Date(ts).getUTCDay() * 24 + h;
  const nearW = (week[(w + 167) % 168]! + week[w]! + week[(w + 1) % 168]!) * decay;
  const share = (dayTot + k / 7) / (total + k);
  const ratio = (nearW + 1) / (pDay * dayTot + 1);
  return pDay * share * ratio;
}

/** Half-width (hours) of the triangular kernel agentDayStart smooths the daily profile with. */
const DAY_SPLIT_KERNEL = 12;

/**
 * The UTC hour at which the agent's own day starts, in (−12, 12]: the middle of its quietest stretch (the hour
 * whose triangular-weighted neighbourhood of ±DAY_SPLIT_KERNEL hours holds the fewest active
 * hours; ties to the earliest). An office agent's day then splits in the dead of its night, about
 * its local midnight, whatever its time zone; an agent busy around the clock splits somewhere
 * harmless, its weekdays alike. Derived from the daily profile: no state of its own.
 */
export function agentDayStart(hours: readonly number[]): number {
  let best = 0;
  let bestScore = Infinity;
  for (let h = 0; h < 24; h++) {
    let score = 0;
    for (let d = 1 - DAY_SPLIT_KERNEL; d < DAY_SPLIT_KERNEL; d++) score += (DAY_SPLIT_KERNEL - Math.abs(d)) * (hours[(h + d + 24) % 24] ?? 0);
    if (score < bestScore - 1e-9) {
      best = h;
      bestScore = score;
    }
  }
  // Signed, within half a day of UTC midnight: a day that starts at 17:00 UTC is the next UTC
  // day's (mostly), so it takes that day's name.
  return best > 12 ? best - 24 : best;
}

/** Latencies the agent must have shown before one is judged. */
const LATENCY_MIN = 30;
/** Per-event decay of the agent's long-run latency spread (state.latencySpread): a half-life of 1,000 events. */
export const LATENCY_SPREAD_DECAY = Math.pow(0.5, 1 / 1_000);

/**
 * How far this latency is from the agent's recent ones (median of the last 128), in units of the
 * larger of their spread (1.4826 · MAD) and the agent's long-run spread (mean absolute deviation
 * about its long-run mean × √(π/2), the normal's σ, over ~1,000 events): a run of identical
 * latencies (a caching proxy, a stub, a retry loop answered from memory) fills the recent window
 * with one value, and with its
 * MAD of 0 every ordinary latency after it read as an outlier, medium evidence event after event,
 * enough to escalate a clean agent (origin/test/scoring-latency.test.ts).
 */
export function latencyOutlier(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): Reason | undefined {
  if (e.latencyMs === undefined || s.latency.length < LATENCY_MIN) return undefined;
  const x = Math.log1p(e.latencyMs);
  const med = median(s.latency);
  const d = s.latencySpread;
  const longRun = d && d.w >= LATENCY_MIN ? (1.2533 * d.s) / d.w : 0;
  const z = Math.abs(x - med) / (Math.max(1.4826 * mad(s.latency, med), longRun) + 0.05);
  return reason("latency", curve(z, cfg.latency), `latency ${Math.round(e.latencyMs)} ms vs a usual ${Math.round(Math.expm1(med))} ms`);
}

/** Jensen–Shannon divergence of the short vs long action mix: slow change in what the agent does. */
export function behaviourDrift(s: MonitorState, cfg: ScoringConfig): Reason | undefined {
  if (s.n < 200) return undefined;
  let js = 0;
  const keys = new Set([...Object.keys(s.mixShort), ...Object.keys(s.mixLong)]);
  for (const k of keys) {
    const p = s.mixShort[k] ?? 0;
    const q = s.mixLong[k] ?? 0;
    const m = (p + q) / 2;
    if (p > 0) js += 0.5 * p * Math.log(p / m);
    if (q > 0) js += 0.5 * q * Math.log(q / m);
  }
  return reason("behaviour_drift", curve(js, cfg.behaviourDrift), `recent action mix diverges from the long-run mix (JS ${js.toFixed(2)})`);
}

/**
 * Read volume summed over the current clock hour (this event included) against the agent's own
 * busiest hours (98th percentile of its recent active hours): a trickle of normal-sized reads
 * adds up to an exfiltration no single event shows.
 */
export function volumeHour(s: MonitorState, e: ScoredInput, unit: "records" | "bytes", cfg: ScoringConfig): Reason | undefined {
  const value = e[unit];
  const h = value === undefined ? undefined : hourAgainstPeak(s, unit, e.ts, value, cfg);
  if (!h) return undefined;
  return reason("volume_hour", h.contribution, `${Math.round(h.sum)} ${unit} read this hour vs at most ~${Math.round(h.peak)} in a busy hour`);
}

/**
 * The clock hour's sum of `s.volume[key]` with this event's `value` against the agent's busy hours
 * (98th percentile of its recent active hours' sums): x = ln((sum + 1) / (peak + 1)) on the
 * volumeHour curve, trusted after 8 closed hours and fully after ~24. Shared by volume_hour and
 * fanout_hour, which differ only in what they sum.
 */
function hourAgainstPeak(
  s: MonitorState,
  key: string,
  ts: number,
  value: number,
  cfg: ScoringConfig,
): { sum: number; peak: number; contribution: number } | undefined {
  const v = s.volume[key];
  if (!v || v.past.length < 8) return undefined;
  const hour = Math.floor(ts / 3_600_000);
  const sum = (hour === v.hour ? v.sum : 0) + value;
  const x = Math.log((sum + 1) / (v.peak + 1));
  return { sum, peak: v.peak, contribution: curve(x, cfg.volumeHour) * conf(v.past.length, 24) };
}

/**
 * The key of `MonitorState.volume` that sums the distinct never-seen resources an agent touches
 * per clock hour (fanoutHour), beside the read-volume units.
 */
export const FANOUT_HOUR = "new_resources";

/**
 * Distinct never-seen resources touched in the current clock hour (this event included) against
 * the agent's own busiest hours (98th percentile of its recent hours with any): exfiltration by
 * reading many objects at an ordinary pace, which no minute's fan-out and no single read shows,
 * and which carries no records or bytes to add up. Same reading and curve as volume_hour.
 */
export function fanoutHour(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): Reason | undefined {
  const h = hourAgainstPeak(s, FANOUT_HOUR, e.ts, 1, cfg);
  if (!h) return undefined;
  return reason("fanout_hour", h.contribution, `${h.sum} distinct new resources this hour vs at most ~${Math.round(h.peak)} in a busy hour`);
}

/**
 * Features whose value is already a statistic over a window of recent events (a session, a
 * minute, the last 20 outcomes, a run, a drift between samples): every event inside the window
 * repeats the same evidence. The episode accumulator and the agent's lingering risk count such a
 * feature's evidence once, and afterwards only what it grows by (features.freshEvidence); the
 * others (a new tool, an out-of-scope action, an amount beyond the agent's tail, a never-seen
 * step) are new evidence with every event.
 */
/** A feature's contribution from which a run of it counts as a medium run, and the same in nats. */
const MEDIUM_LINE = 0.3;
export const MEDIUM_EVIDENCE = -Math.log(1 - MEDIUM_LINE);

export const WINDOW_FEATURES: ReadonlySet<string> = new Set([
  "novelty_run",
  "sequence_run",
  "sequence_surprise",
  "rate_burst",
  "action_rate",
  "resource_fanout",
  "amount_drift",
  "volume_drift",
  "volume_hour",
  "error_ratio",
  "unusual_hour",
  "behaviour_drift",
  "mix_drift",
  "object_run",
  "fanout_hour",
  "young_tool",
  "repeated_step",
]);

/**
 * Evidence (nats, -ln(1 - contribution)) this event adds that the recent ones have not already
 * shown: per-event features in full, window features only above what the same feature already
 * showed in the current episode (`held`, decaying like the accumulator). Returns the fresh
 * evidence and the updated `held`. A catch-up backlog or a busy session at an hour the agent
 * rarely works is one surprise, however many events it has; ten first uses of ten tools are ten.
 */
export function freshEvidence(
  held: Record<string, number>,
  heldT: number,
  runs: Record<string, { c: number; t: number }>,
  reasons: readonly Reason[],
  ts: number,
  cfg: ScoringConfig,
): { fresh: number; novel: number; held: Record<string, number>; top: string } {
  const decay = Math.pow(0.5, Math.max(0, ts - heldT) / cfg.sustained.halfLifeMs);
  const next: Record<string, number> = {};
  for (const k in held) {
    const v = held[k]! * decay;
    if (v >= 0.01) next[k] = v;
  }
  let fresh = 0;
  let novel = 0;
  let top = "";
  let topEv = 0;
  for (const r of reasons) {
    const ev = -Math.log(1 - Math.min(r.contribution, 0.999));
    if (!WINDOW_FEATURES.has(r.feature)) {
      fresh += ev;
      novel += ev;
      if (ev > topEv) {
        top = r.feature;
        topEv = ev;
      }
      continue;
    }
    const before = next[r.feature] ?? 0;
    // A medium run of this feature starts: remembered (decaying like the behaviour counts), so the
    // agent's own history of such runs says how much a repeat of it is worth.
    const runsBefore = decayedAt(runs[r.feature], ts, cfg.halfLife.behaviour);
    if (r.contribution >= MEDIUM_LINE && before < MEDIUM_EVIDENCE) runs[r.feature] = { c: runsBefore + 1, t: ts };
    // Growth of the window statistic is new evidence; its repetition counts in full only for an
    // agent that has never had a medium run of this feature (1 / (1 + earlier runs) otherwise).
    const add = Math.max(0, ev - before) + Math.min(ev, before) / (1 + runsBefore);
    fresh += add;
    novel += Math.max(0, ev - before);
    if (ev - before > topEv) {
      top = r.feature;
      topEv = ev - before;
    }
    next[r.feature] = Math.max(before, ev);
  }
  return { fresh, novel, held: next, top };
}

/** ln C(n, k), summed exactly (n ≤ a few hundred). */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log((n - k + i) / i);
  return s;
}

/** -ln P(X ≥ k) for X ~ Binomial(n, q), any n (terms summed in log space from k upward). */
export function binomialTailSurprisalLog(k: number, n: number, q: number): number {
  if (k <= 0) return 0;
  if (k > n) return Infinity;
  const lq = Math.log(q);
  const l1q = Math.log1p(-q);
  let lt = logChoose(n, k) + k * lq + (n - k) * l1q;
  let sum = 1; // relative to the first term
  let term = 1;
  for (let i = k; i < n; i++) {
    term *= ((n - i) / (i + 1)) * (q / (1 - q));
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  lt += Math.log(sum);
  return -Math.min(0, lt);
}

/** One event of the episode window: its time and the feature that carried its new medium evidence ("" = not marked). */
export interface EpisodeMark {
  t: number;
  f: string;
}

/** The scan's state: the window's events (≤ EPISODE_WINDOW_CAP) and decayed counts of marked and all events. */
export interface EpisodeState {
  w: EpisodeMark[];
  marked: { c: number; t: number };
  total: { c: number; t: number };
  /** The current clock hour's events and marks, and the decayed sum / weight of closed hours' squared Pearson residuals (dispersion). */
  hour?: { h: number; n: number; m: number };
  disp?: { s: number; w: number };
  /** Per window feature, the held level (nats) at its last mark, decaying like `held` (≤ 16 entries, one per WINDOW_FEATURES name). */
  lvl?: Record<string, number>;
  lvlT?: number;
  /** Per window feature held at a medium level, when it last marked (≤ 16 entries). */
  since?: Record<string, number>;
  /** Events the scan has seen, and per window feature the count when it last marked (≤ 16 entries). */
  k?: number;
  sinceK?: Record<string, number>;
}

/**
 * What the episode scan reads from one event: its time, the per-event evidence it brings that the
 * recent events had not shown (freshEvidence's `novel`, and `top`, the feature that carried most),
 * each window statistic's held level (`held`) and its level on this event (`now`), in nats, and the
 * agent's earlier medium runs of each (`runs`).
 */
export interface EpisodeEvent {
  ts: number;
  novel: number;
  top: string;
  held: Record<string, number>;
  now: Record<string, number>;
  runs: Record<string, { c: number; t: number }>;
}

/** Events object_run counts never-taken steps among (object-steps.ts; a bit mask of the last ones). */
export const OBJECT_RUN_EVENTS = 8;

/** At most this many events in the window (a busy agent's window is the last 256 events). */
export const EPISODE_WINDOW_CAP = 256;
/** Weight (in clock hours) of the binomial's dispersion 1 before the agent's own hours speak. */
const DISPERSION_PRIOR = 24;
/**
 * An hour's squared Pearson residual counts towards the dispersion up to this (χ²₁'s 0.999
 * quantile): until 2026-12-06 the cap was 10⁴, so on a quiet agent the one hour of an earlier
 * attack (5 marks among 20 events at q = 2 %: r² ≈ 54) held φ above 3 for weeks and muted the
 * scan on its next episode.
 */
const DISPERSION_CAP = 10.83;
/** A window feature held at a medium level marks again after this long. */
const REMARK_MS = 5 * 60_000;
/**
 * Window features whose window is a number of the agent's own events, not a span of time (about
 * how many events their statistic remembers): held at medium, such a statistic is made of the
 * events it already marked on until that many new ones have replaced them. Time-windowed ones
 * (rate_burst, action_rate, resource_fanout: a minute; unusual_hour, volume_hour: the clock hour) are absent.
 */
const EVENT_WINDOWS: Readonly<Record<string, number>> = {
  novelty_run: 5,
  sequence_run: 5,
  // Its own window (object-steps' popcount); 5 until 2026-12-06, so it re-marked while 3 of its 8
  // slots still held events it had already marked on.
  object_run: OBJECT_RUN_EVENTS,
  sequence_surprise: 4,
  error_ratio: 20,
  amount_drift: 24,
  volume_drift: 24,
  behaviour_drift: 50,
  mix_drift: 50,
};

/**
 * Is this event new medium evidence? Its per-event features' new evidence reaches the medium line
 * (freshEvidence's `novel`), or a window statistic has grown by a medium line's worth since it last
 * marked (a session at a dead hour growing event by event, however gradually), or a window
 * statistic is at a medium level on this event and has been for another REMARK_MS since its last
 * mark (what it shows now, not the decaying memory of it: a pause is not a lasting state): the state
 * lasting is new evidence too (a 30-minute session at a dead hour is more than its first minute),
 * counted by time, not by events, so a fast backlog is not more evidence than a slow one. An agent
 * that has had medium runs of the feature before (a habit, or a run a review cleared) needs
 * proportionally longer: the same 1 / (1 + earlier runs) credit freshEvidence gives a repeat.
 * A statistic over the agent's last few events (EVENT_WINDOWS) lasts only once that many new events
 * have replaced the ones it marked on. One observation marks once: a mark, by whichever path,
 * takes in every window statistic's level on the event, so growth that already helped one mark is
 * not another when the decaying memory of it has faded and the statistic still holds it.
 */
function markOf(ep: EpisodeState, ev: EpisodeEvent, cfg: ScoringConfig): string | undefined {
  const { ts, novel, top, held, now, runs } = ev;
  let mark = novel >= MEDIUM_EVIDENCE ? top : undefined;
  const decay = Math.pow(0.5, Math.max(0, ts - (ep.lvlT ?? ts)) / cfg.sustained.halfLifeMs);
  const lvl: Record<string, number> = {};
  for (const k in ep.lvl ?? {}) lvl[k] = ep.lvl![k]! * decay;
  const since = (ep.since ??= {});
  const sinceK = (ep.sinceK ??= {});
  const count = (ep.k = (ep.k ?? 0) + 1);
  for (const k in held) {
    const grown = held[k]! - (lvl[k] ?? 0) >= MEDIUM_EVIDENCE;
    // `runs` already counts the current run. An event-count window must also have turned over: a
    // statistic over the last few steps, still at medium after a pause, is the steps it already
    // marked on, not a state that lasted. A window of k events holds none of them after k new ones
    // (it waited for k + 1 until 2026-12-06).
    const lasted =
      (now[k] ?? 0) >= MEDIUM_EVIDENCE &&
      since[k] !== undefined &&
      ts - since[k]! >= REMARK_MS * Math.max(1, decayedAt(runs[k], ts, cfg.halfLife.behaviour)) &&
      count - (sinceK[k] ?? 0) >= (EVENT_WINDOWS[k] ?? 0);
    if (grown || lasted) {
      mark ??= k;
      lvl[k] = Math.max(lvl[k] ?? 0, held[k]!);
      since[k] = ts;
      sinceK[k] = count;
    } else if (held[k]! < MEDIUM_EVIDENCE) {
      delete since[k];
      delete sinceK[k];
    }
  }
  // A marked event consumes every window statistic's growth on it, whichever path marked it: growth
  // that helped the per-event evidence over the line (freshEvidence's `novel`) is not a second mark
  // later, when the memory of the level it reached has decayed and the statistic still holds it.
  if (mark !== undefined) for (const k in held) lvl[k] = Math.max(lvl[k] ?? 0, held[k]!);
  ep.lvl = lvl;
  ep.lvlT = Math.max(ep.lvlT ?? 0, ts);
  return mark;
}

/** Standard normal density and distribution function (Abramowitz–Stegun 7.1.26 for erf, |error| < 1.5e-7). */
function normalPdf(z: number): number {
  return Math.exp(-0.5 * z * z) / Math.sqrt(2 * Math.PI);
}
function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? 0.5 * (1 + erf) : 0.5 * (1 - erf);
}

/**
 * E[min(r², c)] for the squared Pearson residual r² = (K − nq)² / (nq(1 − q)) of K ~ Binomial(n, q):
 * what a capped residual averages when the hour is ordinary. Exact for small variance, the normal
 * limit (r² ~ χ²₁) beyond.
 */
export function cappedPearsonMean(n: number, q: number, c: number): number {
  const v = n * q * (1 - q);
  if (v > 25) {
    const a = Math.sqrt(c);
    return 2 * normalCdf(a) - 1 - 2 * a * normalPdf(a) + 2 * c * (1 - normalCdf(a));
  }
  let p = Math.exp(n * Math.log1p(-q));
  let cdf = 0;
  let e = 0;
  for (let k = 0; k <= n; k++) {
    e += p * Math.min((k - n * q) ** 2 / v, c);
    cdf += p;
    if (k > n * q && (k - n * q) ** 2 / v >= c) return e + c * Math.max(0, 1 - cdf);
    p *= ((n - k) / (k + 1)) * (q / (1 - q));
  }
  return e;
}

/**
 * Episode-level escalation (`sustained_anomaly`) as a scan statistic with a false-alarm bound.
 * Under the agent's own normal behaviour a share q of its events is marked (markOf; decayed counts
 * over its history, add-one smoothed), so if nothing is wrong the marks among the n events of the
 * last `episode.windowMs` are Binomial(n, q), corrected for the agent's own over-dispersion
 * (quasi-binomial: the surprisal is divided by φ, the mean squared Pearson residual of its hourly
 * mark counts). The tail is exact and judged family-wise over the agent's history like
 * amount_over_max: among N events there are about N / n disjoint windows, so x = -ln((N / n) · P)
 * says how surprising it is that the agent EVER had such a window; high (x ≈ 6.9 on the default
 * curve) is one history in a thousand. The tipping event's own evidence is already in its
 * features (noisy-OR in the engine), so the window is judged without it. Normal events interleaved
 * with an attack only add to n, they do not drain the statistic (a CUSUM's slack would). Only a
 * marked event carries the reason, and the reason names the features the marks came from.
 */
export function sustainedAnomaly(ep: EpisodeState, ev: EpisodeEvent, cfg: ScoringConfig): Reason | undefined {
  const ts = ev.ts;
  const hl = cfg.halfLife.behaviour;
  const markedBy = markOf(ep, ev, cfg);
  const mark = markedBy !== undefined;
  while (ep.w.length > 0 && (ts - ep.w[0]!.t >= cfg.episode.windowMs || ep.w.length >= EPISODE_WINDOW_CAP)) ep.w.shift();
  // The null share is the agent's history BEFORE this event (the window's own marks are in it too:
  // a long attack raises its own q and so weakens itself, never the reverse).
  const total = decayedAt(ep.total, ts, hl);
  const q = Math.min(0.5, (decayedAt(ep.marked, ts, hl) + 1) / (total + 2));
  // Marks cluster in normal work too (a new resource family brings several novelties at once, an
  // error blip several failures): the binomial is corrected by the agent's own dispersion, the
  // squared Pearson residuals of its closed clock hours' mark counts, each capped at DISPERSION_CAP,
  // over what capped residuals average in ordinary hours (quasi-binomial), with the binomial's 1 as
  // a prior worth DISPERSION_PRIOR hours.
  const hour = Math.floor(ts / 3_600_000);
  const cur = (ep.hour ??= { h: hour, n: 0, m: 0 });
  const disp = (ep.disp ??= { s: 0, w: 0 });
  if (hour > cur.h) {
    if (cur.n > 0) {
      const r2 = (cur.m - cur.n * q) ** 2 / (cur.n * q * (1 - q));
      const a = Math.pow(0.5, 3_600_000 / hl);
      // Winsorised: one extraordinary hour (an earlier attack, a review's burst) is at most
      // DISPERSION_CAP of evidence for clustering, not a lasting mute on every later episode, and
      // the ordinary hour's capped mean is the denominator, so the estimate stays 1 when marks do
      // not cluster (however short the hours).
      disp.s = disp.s * a + Math.min(r2, DISPERSION_CAP);
      disp.w = disp.w * a + cappedPearsonMean(cur.n, q, DISPERSION_CAP);
    }
    ep.hour = { h: hour, n: 0, m: 0 };
  }
  const phi = Math.max(1, (disp.s + DISPERSION_PRIOR) / (disp.w + DISPERSION_PRIOR));
  if (hour >= ep.hour.h) {
    ep.hour.n++;
    if (mark) ep.hour.m++;
  }
  ep.w.push({ t: ts, f: markedBy ?? "" });
  ep.total = { c: total + 1, t: Math.max(ep.total.t, ts) };
  if (mark) ep.marked = { c: decayedAt(ep.marked, ts, hl) + 1, t: Math.max(ep.marked.t, ts) };
  if (!mark) return undefined;
  const n = ep.w.length;
  let m = 0;
  const by = new Map<string, number>();
  for (const w of ep.w) {
    if (!w.f) continue;
    m++;
    by.set(w.f, (by.get(w.f) ?? 0) + 1);
  }
  if (m - 1 < 2) return undefined;
  const x = binomialTailSurprisalLog(m - 1, n - 1, q) / phi - Math.log(Math.max(1, total / n));
  const names = [...by]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([f, k]) => `${f} ×${k}`)
    .join(", ");
  return reason(
    "sustained_anomaly",
    curve(x, cfg.episode.curve) * conf(total, cfg.warmup.novelty),
    `${m} of the last ${n} events brought new medium evidence (usual share ${(q * 100).toFixed(2)}%, dispersion ${phi.toFixed(1)}): ${names}`,
  );
}
