import type { DriftAge, DriftState } from "./drift.ts";
import type { EpisodeState } from "./features.ts";
import type { MixDriftState } from "./mix-drift.ts";
import type { YoungWatch } from "./young-tools.ts";
import type { StepWatch } from "./repeated-steps.ts";
import type { WokenPool } from "./woken.ts";
import type { Windows } from "./late-lane.ts";
import type { ActionMinutes } from "./action-rate.ts";

/**
 * Per-agent monitor state: plain JSON, so the Durable Object stores it as one row. Every map is
 * capped (evicting the weakest entry), every series is a fixed-size ring: memory is bounded by the
 * config's caps whatever the number of events.
 */
/**
 * Upper bound of one agent's serialised state (its JSON's length in UTF-16 code units, as the
 * tests measure it; up to three UTF-8 bytes each, so the edge stores it in rows of at most 1.2 MB,
 * workers/src/monitor/state-store.ts) under the default caps, whatever the
 * events: 256 actions × 128 chars, 1,024 transitions, 2,048 resources × 512 chars, 256 resource
 * kinds, 32 numeric series × (128 + 128 + 16) values, 240-entry rings, 2 × (168 + 24) hour bins
 * (events and active clock hours) with ≤ lag + 2 pending hour counts and block masks, and ≤ 2 × 16 entries (one per
 * WINDOW_FEATURES name) of held evidence and run counts keyed by fixed feature names (< 1 KB), and the episode scan's window
 * of at most 256 { t, feature } marks (≈ 12 KB) with ≤ 3 × 16 per-feature levels, and 128 recently touched
 * objects with 512 object steps and contexts (≈ 0.17 MB at maximum key lengths), and ≤ 4 young-tool watches (< 1 KB), and ≤ 4 repeated-step watches (< 2 KB), and ≤ 32 actions' reference shares and CUSUMs (mix-drift.ts, ≈ 8 KB at maximum key lengths), and ≤ 256 actions' minute counts (action-rate.ts: 9 numbers each, ≈ 70 KB at maximum key lengths). The bounded-memory test
 * drives every map to its cap with maximum-length keys and checks it.
 */
export const MAX_STATE_BYTES = 2_500_000;

/**
 * One numeric series (log values of an amount per action and currency, or a read volume per
 * action and unit): recent values, a frozen reference (the first values, for drift), the largest
 * values ever, and how long its drift has stood (`age`, drift.ts; absent in older states).
 */
export interface AmountSeries {
  recent: number[];
  ref: number[];
  seen: number;
  top?: number[];
  topFrom?: number;
  drift?: DriftState;
  age?: DriftAge;
}

export interface Decayed {
  /** Count, decayed to time `t`. */
  c: number;
  t: number;
}

export interface MonitorState {
  version: 1;
  /** Events learned from. */
  n: number;
  lastTs: number;
  actionTotal: Decayed;
  actions: Record<string, Decayed>;
  transitions: Record<string, Decayed>;
  /** Outgoing totals per action, for transition probabilities. */
  outgoing: Record<string, Decayed>;
  /** Distinct successors seen per action (maintained on insert, so no scan per event). */
  successors: Record<string, number>;
  prevAction: string | null;
  resourceKinds: Record<string, Decayed>;
  resourceKindTotal: Decayed;
  /** Recently seen resources (last-seen ts), for "new resource" counting. */
  resources: Record<string, number>;
  /** Per-minute buckets by event time: epoch minute → [events, new resources]. */
  minutes: Record<string, [number, number]>;
  /** Minute up to which buckets have been folded into the baselines. */
  foldedMinute: number;
  /** Long-run error/denied ratio. */
  errLong: number;
  outcomeN: number;
  /** UTC hour-of-day counts. */
  hours: number[];
  hoursT: number;
  hoursTotal: number;
  /** log(amount) rings per currency/action key: recent values, a frozen reference (the first values, for drift) and the largest values ever. */
  /**
   * `topFrom`: how many of `seen` came before `top` began (a series from before `top`, release
   * 9f2709c, starts it from its recent values; absent: `top` began with the series).
   */
  amounts: Record<string, AmountSeries>;
  /** log(latency) ring per action-less agent. */
  latency: number[];
  /**
   * The agent's long-run spread of log latency: its decayed mean `m`, the decayed sum of
   * |log latency − m| and their weight, per event (LATENCY_SPREAD_DECAY: a half-life of 1,000 events). Absent in
   * states stored before it.
   */
  latencySpread?: { m: number; s: number; w: number };
  /** Recent novelty run: decays per event. */
  noveltyRun: number;
  /** Times of the latest first uses of tools (≤ NEW_TOOL_RING, ascending; features.noveltyBurst). Absent in states stored before it. */
  newTools?: number[];
  /** Long-run share of events that were novel (the agent's own exploration rate). */
  novelRate: number;
  /** Last 20 outcomes, 1 = failed or denied (oldest first). */
  outcomes: number[];
  /** Timestamps of the most recent events (ascending), for sliding-window rates. */
  recentTs: number[];
  /** Event and new-resource counts of the last closed active minutes (rings), and their 98th percentiles. */
  minuteCounts: number[];
  minuteFresh: number[];
  ratePeak: number;
  fanoutPeak: number;
  /** Recent run of never-seen transitions between known actions, and the agent's usual rate of them. */
  seqRun: number;
  seqRate: number;
  /** Number of keys in `resources` (kept so eviction does not scan the map on every event). */
  resourceCount: number;
  /** Short and long action distributions for drift (EWMA of one-hot, keyed by action). */
  mixShort: Record<string, number>;
  mixLong: Record<string, number>;
  risk: { score: number; t: number; reasons: { feature: string; contribution: number; detail: string }[] };
  /** Time of the first hour folded into the hour profiles (-1 before any; 0 for states migrated with history). */
  hourSince: number;
  /** Hour-of-week counts (UTC, 168 bins, decayed like `hours`). */
  week: number[];
  /** Events not yet learned into the hour profiles: epoch hour → count (at most lag + 1 entries). */
  hourPending: Record<string, number>;
  /**
   * The hour profiles in units of independent observations (features.unusualHour): per UTC hour of
   * day (24) and hour of week (168), the decayed number of clock hours the agent was active in it
   * (one per epoch hour, however many events), their total, the decayed number of active 10-minute
   * blocks in those hours and of days it worked (`days`; `day` the last one counted);
   * `blockPending` is the 6-bit block mask of each pending epoch hour (keys ⊆ hourPending's);
   * `cleared`, the time up to which a review accepted the agent's activity (its blocks no longer
   * count as a session's length); `hour`, the last epoch hour counted as active (counted once);
   * `off`, the decayed number of active hours at an hour of day its profile had (almost) never seen
   * (foldHours; features.unusualHour's off-profile rate). Absent in states stored before them: derived from the event
   * counts on load (activeFromEvents; `off` from 0).
   */
  active?: { hours: number[]; week: number[]; total: number; blocks: number; days?: number; day?: number; cleared?: number; hour?: number; off?: number };
  blockPending?: Record<string, number>;
  /** Read volume per unit: the current clock hour's sum and a ring of past active hours' sums. */
  volume: Record<string, { hour: number; sum: number; past: number[]; peak: number }>;
  /**
   * Page–Hinkley/CUSUM accumulator of per-event fresh evidence (nats above the medium line), its
   * time, the evidence each window feature already showed in the current episode (`held`) and the
   * agent's decayed count of earlier medium runs of each (`runs`); both are keyed by the fixed
   * WINDOW_FEATURES names only (≤ 16 entries each) and absent in states stored before them
   * (features.freshEvidence).
   */
  cusum: { s: number; t: number; held?: Record<string, number>; runs?: Record<string, Decayed> };
  /** Episode scan window and the agent's decayed counts of marked / all events (features.sustainedAnomaly); absent in older states. */
  episode?: EpisodeState;
  /** Recent rates at which never-seen actions / resource kinds appeared (EWMA), for calibrated novelty. */
  actionNewRate: number;
  kindNewRate: number;
  /** Step surprise (features.stepSurprise): short run (EWMA over ~4 steps), its long-run mean and variance, steps counted. */
  /** `last`: the raw surprise of the last few steps (features.runStep); absent in older states. */
  seq: { short: number; mean: number; v: number; n: number; last?: number[] };
  /**
   * Object-level steps (object-steps.ts): recently touched resources → [last action, its time]
   * (at most caps.objects, `objectCount` of them), decayed counts of steps per context (the last
   * action on the resource, or U+0001 + the resource's collection and depth for a first touch) and
   * of each context's uses. Absent
   * in states stored before them.
   */
  objects?: Record<string, [string, number]>;
  objectCount?: number;
  objSteps?: Record<string, Decayed>;
  objOut?: Record<string, Decayed>;
  /** Never-taken object steps among the last 8 events (bit i = i events ago) and their decayed count. */
  objFlags?: number;
  objNovel?: Decayed;
  /** Distinct steps seen per context (maintained on insert and eviction). */
  objSucc?: Record<string, number>;
  /** Rarely used tools woken recently and watched for their share of the next events (young-tools.ts, at most 4), and the decayed count of wakes. Absent in older states. */
  young?: YoungWatch[];
  youngWakes?: Decayed;
  /** Uses and events of the ended watches, decayed: the share the agent's woken tools take. */
  youngPool?: WokenPool;
  /** Never-taken object steps woken recently and watched for their share of the next objects in their state (repeated-steps.ts, at most 4); the ended watches' takes and objects, decayed. Absent in older states. */
  stepWatch?: StepWatch[];
  stepPool?: WokenPool;
  /** Per-action share CUSUMs against the frozen reference mix (mix-drift.ts, at most 32 actions). Absent in older states. */
  mix?: MixDriftState;
  /** Recency windows of events that arrived late, one per stream, least recently used first (late-lane.ts); absent until one does. */
  late?: Windows[];
  /** The current session's start and the active hours the silence before it skipped, while that credit lasts (features.owedWork). */
  owed?: { t: number; hours: number };
  /** Per action, its minute counts and busiest minutes (action-rate.ts, at most caps.actions actions × 9 numbers). Absent in older states. */
  actionMinutes?: Record<string, ActionMinutes>;
}

/**
 * A dictionary for keys that come from users (action names, resources, currencies): no prototype,
 * so `constructor`, `__proto__` or `toString` are ordinary keys, never inherited members.
 */
export function dict<V>(from?: Record<string, V>): Record<string, V> {
  const d = Object.create(null) as Record<string, V>;
  if (from && typeof from === "object") for (const k of Object.keys(from)) d[k] = from[k]!;
  return d;
}

/** The fields of MonitorState keyed by user strings. */
export const DICT_FIELDS = ["actions", "transitions", "outgoing", "successors", "resourceKinds", "resources", "minutes", "amounts", "mixShort", "mixLong", "hourPending", "volume", "blockPending", "objects", "objSteps", "objOut", "objSucc", "actionMinutes"] as const;

export function newEpisodeState(): EpisodeState {
  return { w: [], marked: { c: 0, t: 0 }, total: { c: 0, t: 0 } };
}

export function newState(): MonitorState {
  return {
    version: 1, n: 0, lastTs: 0,
    actionTotal: { c: 0, t: 0 }, actions: dict(), transitions: dict(), outgoing: dict(), successors: dict(), prevAction: null,
    resourceKinds: dict(), resourceKindTotal: { c: 0, t: 0 }, resources: dict(),
    minutes: dict(), foldedMinute: 0,
    errLong: 0, outcomeN: 0,
    hours: new Array<number>(24).fill(0), hoursT: 0, hoursTotal: 0,
    amounts: dict(), latency: [], noveltyRun: 0, novelRate: 0, outcomes: [], recentTs: [], resourceCount: 0, minuteCounts: [], minuteFresh: [], ratePeak: 0, fanoutPeak: 0, seqRun: 0, seqRate: 0, mixShort: dict(), mixLong: dict(),
    risk: { score: 0, t: 0, reasons: [] },
    hourSince: -1, week: new Array<number>(168).fill(0), hourPending: dict(), volume: dict(), blockPending: dict(),
    active: { hours: new Array<number>(24).fill(0), week: new Array<number>(168).fill(0), total: 0, blocks: 0 }, cusum: { s: 0, t: 0, held: {}, runs: {} },
    actionNewRate: 0, kindNewRate: 0, seq: { short: 0, mean: 0, v: 0, n: 0 },
    episode: newEpisodeState(),
    objects: dict(), objectCount: 0, objSteps: dict(), objOut: dict(), objSucc: dict(),
  };
}

/**
 * State as stored (JSON.parse output) back into a live state: every user-keyed map becomes a
 * null-prototype dictionary again (JSON.parse makes `__proto__` an own key, but a plain object
 * would still answer `constructor` from its prototype). Migration: a state stored before the
 * hour-of-week profile, read volume and evidence accumulator existed keeps all its learned
 * history and gets those three empty (they warm up from the next events); anything that is not a
 * version-1 state starts afresh.
 */
export function reviveState(stored: unknown): MonitorState {
  const s = stored as MonitorState;
  if (!s || typeof s !== "object" || s.version !== 1) return newState();
  const live = { ...newState(), ...s } as MonitorState;
  if (!Array.isArray(live.week) || live.week.length !== 168) live.week = new Array<number>(168).fill(0);
  // A migrated state already has days of hour history: its daily profile is mature.
  if (typeof s.hourSince !== "number") live.hourSince = s.hoursTotal > 0 ? 0 : -1;
  // Active-hour profiles: a state stored before them (or with a malformed one) derives them from its event counts.
  const a = s.active;
  if (!a || !Array.isArray(a.hours) || a.hours.length !== 24 || !Array.isArray(a.week) || a.week.length !== 168) live.active = activeFromEvents(live);
  for (const f of DICT_FIELDS) (live as unknown as Record<string, unknown>)[f] = dict((s as unknown as Record<string, Record<string, unknown>>)[f]);
  if (live.mix) live.mix = { ...live.mix, a: dict(live.mix.a) };
  if (!Array.isArray(s.late)) live.late = undefined;
  if (!s.owed || typeof s.owed.t !== "number" || typeof s.owed.hours !== "number") live.owed = undefined;
  if (!Array.isArray(s.newTools) || !s.newTools.every((t) => typeof t === "number")) live.newTools = undefined;
  const ls = s.latencySpread;
  if (!ls || typeof ls.m !== "number" || typeof ls.s !== "number" || typeof ls.w !== "number") live.latencySpread = undefined;
  return live;
}

/**
 * Active-hour profiles for a state stored before they existed, from its event counts: an hour of
 * the day with c events was active on at most min(c, days) days (an hour of the week on at most
 * min(c, weeks) weeks), and an active hour had at most 6 active 10-minute blocks and at most one
 * per event. Upper bounds, so a migrated agent's odd hours look no rarer than they were.
 */
export function activeFromEvents(s: MonitorState): NonNullable<MonitorState["active"]> {
  const days = s.hourSince < 0 ? 0 : Math.max(1, (s.hoursT - s.hourSince) / 86_400_000);
  const hours = s.hours.map((c) => Math.min(c, days));
  const week = (Array.isArray(s.week) && s.week.length === 168 ? s.week : new Array<number>(168).fill(0)).map((c) => Math.min(c, Math.max(1, days / 7)));
  const total = hours.reduce((a, b) => a + b, 0);
  // Working days: at most the calendar days (so weekdays look no more alike than they did).
  return { hours, week, total, blocks: Math.min(6 * total, s.hoursTotal), days };
}

/** Value of a decayed count at time `t` (no decay backwards: late events see the current value). */
export function decayedAt(d: Decayed | undefined, t: number, halfLife: number): number {
  if (!d) return 0;
  const dt = Math.max(0, t - d.t);
  return d.c * Math.pow(0.5, dt / halfLife);
}

/** Adds one to a capped decayed count; returns the evicted key, if the cap forced one out. */
export function bump(map: Record<string, Decayed>, key: string, t: number, halfLife: number, cap: number): string | undefined {
  const cur = decayedAt(map[key], t, halfLife);
  map[key] = { c: cur + 1, t: Math.max(t, map[key]?.t ?? 0) };
  const keys = Object.keys(map);
  if (keys.length > cap) {
    // Evict the weakest other entry: rare, old behaviour is what we can afford to forget.
    let weakest = "";
    let min = Infinity;
    for (const k of keys) {
      if (k === key) continue;
      const v = decayedAt(map[k], t, halfLife);
      if (v < min) { min = v; weakest = k; }
    }
    delete map[weakest];
    return weakest;
  }
  return undefined;
}

/**
 * One step `from → to` into a table of capped decayed step counts (keys `${from}\u0000${to}`), the
 * decayed uses of each `from` and its number of distinct successors (kept on insert and eviction,
 * so no scan per event). `to` is an action name, which never holds a control character
 * (events.ts), so the last U+0000 of a key separates the two.
 */
export function bumpStep(
  table: { steps: Record<string, Decayed>; outgoing: Record<string, Decayed>; successors: Record<string, number> },
  from: string, to: string, t: number, halfLife: number, caps: { steps: number; outgoing: number },
): void {
  const { steps, outgoing, successors } = table;
  const key = `${from}\u0000${to}`;
  if (!steps[key]) successors[from] = (successors[from] ?? 0) + 1;
  const evicted = bump(steps, key, t, halfLife, caps.steps);
  if (evicted) {
    const was = evicted.slice(0, evicted.lastIndexOf("\u0000"));
    if ((successors[was] ?? 0) <= 1) delete successors[was];
    else successors[was]!--;
  }
  bump(outgoing, from, t, halfLife, caps.outgoing);
}

/**
 * Past `cap` entries, forgets the least recently seen quarter of a map at once (so eviction cost
 * is amortised); returns how many entries remain (the caller keeps that count, not a scan).
 */
export function forgetLeastRecent<V>(map: Record<string, V>, count: number, cap: number, seenAt: (v: V) => number): number {
  if (count <= cap) return count;
  const keys = Object.keys(map).sort((a, b) => seenAt(map[a]!) - seenAt(map[b]!));
  const keep = Math.floor(cap * 0.75);
  for (const k of keys.slice(0, keys.length - keep)) delete map[k];
  return Math.min(keys.length, keep);
}

/** Number of set bits (the flags of a short run of events). */
export function popcount(m: number): number {
  let c = 0;
  for (let x = m; x; x &= x - 1) c++;
  return c;
}

export function bumpTotal(d: Decayed, t: number, halfLife: number): void {
  d.c = decayedAt(d, t, halfLife) + 1;
  d.t = Math.max(t, d.t);
}

/** Push into a fixed-size ring (oldest out). */
export function ring(arr: number[], x: number, cap: number): void {
  arr.push(x);
  if (arr.length > cap) arr.splice(0, arr.length - cap);
}

export function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median absolute deviation. */
export function mad(xs: number[], med: number): number {
  return median(xs.map((x) => Math.abs(x - med)));
}

/** The q-quantile (0..1) of a small sample. */
export function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * (s.length - 1) + 0.5))]!;
}
