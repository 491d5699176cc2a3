import type { ScoredInput } from "../events.ts";
import { BAND_MEDIUM } from "../bands.ts";
import { curve, type ScoringConfig } from "./config.ts";
import { aboveNow, ageDrift, DRIFT_REF_MIN, driftEvidence, learnDrift, rebaseDrift } from "./drift.ts";
import { activeNear, AGENT_WIDE, ANY_CURRENCY, FANOUT_HOUR, HOUR_UNIT_MS, hourOfWeek, LATENCY_SPREAD_DECAY, NEW_TOOL_RING, newRateStep, resourceKind, RUN_MEMORY, runStep, SERIES_MIN } from "./features.ts";
import { activeFromEvents, bump, bumpStep, bumpTotal, dict, forgetLeastRecent, popcount, quantile, ring, type AmountSeries, type MonitorState } from "./state.ts";

const MINUTE = 60_000;
/** Minutes of per-minute buckets kept for late (out-of-order) events. */
export const MINUTE_WINDOW = 120;

/**
 * Folds minutes that closed before `minute` into the rate and fan-out peaks. Only active
 * minutes count: an agent that works in bursts is compared with its own bursts, not with idle time.
 */
export function foldMinutes(s: MonitorState, minute: number): void {
  const keys = Object.keys(s.minutes).map(Number).sort((a, b) => a - b);
  for (const m of keys) {
    if (m >= minute) break;
    if (m > s.foldedMinute) {
      const [events, fresh] = s.minutes[String(m)]!;
      // The agent's own busy minutes are the yardstick for bursts: a pipeline that reads 50
      // partitions every hour is not bursting when it does so again.
      ring(s.minuteCounts, events, 240);
      ring(s.minuteFresh, fresh, 240);
      s.ratePeak = quantile(s.minuteCounts, 0.98);
      s.fanoutPeak = quantile(s.minuteFresh, 0.98);
      s.foldedMinute = m;
    }
    if (m < minute - MINUTE_WINDOW) delete s.minutes[String(m)];
  }
}

/** Counts the event into its minute bucket; returns the bucket's [events, new resources] now. */
export function countMinute(s: MonitorState, e: ScoredInput, isNewResource: boolean): { events: number; fresh: number } | undefined {
  const minute = Math.floor(e.ts / MINUTE);
  const latest = Math.floor(s.lastTs / MINUTE);
  if (minute < latest - MINUTE_WINDOW) return undefined; // too late to judge its rate
  const b = (s.minutes[String(minute)] ??= [0, 0]);
  b[0]++;
  if (isNewResource) b[1]++;
  return { events: b[0], fresh: b[1] };
}

export function amountKey(e: ScoredInput): string {
  return `${e.action}|${e.currency ?? ""}`;
}

/** The agent-wide key of a series key: its currency or unit after the LAST `|` (an action name may contain one). */
function wideKey(key: string): string {
  return AGENT_WIDE + key.slice(key.lastIndexOf("|"));
}

/** Enough values of its own to judge a value on (amountFeatures). */
function judgeable(s: MonitorState, key: string): boolean {
  return (s.amounts[key]?.recent.length ?? 0) >= SERIES_MIN;
}

/**
 * The series an event's value is judged on: its action's, or the agent-wide one (features.AGENT_WIDE)
 * while the action has fewer than SERIES_MIN values of its own: before, a read tool adopted or
 * renamed yesterday (`lookup_v2`) could pull 100× the agent's usual records against no yardstick.
 * An amount in a currency the agent has (almost) never used, or with none, is judged on all its
 * amounts in any currency (features.ANY_CURRENCY): before, 10⁹ USD from an agent that had only
 * ever moved about 1,000 EUR, or 10⁹ with the currency left out, read no amount feature at all, and
 * so did its own currency once a flood of other currencies had evicted that currency's series.
 */
export function judgedKey(s: MonitorState, key: string): string {
  if (judgeable(s, key)) return key;
  const wide = wideKey(key);
  return key.includes("|#") || judgeable(s, wide) || !judgeable(s, ANY_CURRENCY) ? wide : ANY_CURRENCY;
}

/** Read volume is judged per action and unit, like amounts per action and currency. */
export const VOLUME_UNITS = ["records", "bytes"] as const;
export type VolumeUnit = (typeof VOLUME_UNITS)[number];

export function volumeKey(e: ScoredInput, unit: VolumeUnit): string {
  return `${e.action}|#${unit}`;
}

const HOUR = 3_600_000;

/** An amount drift stops standing after this many values off its line in a row (a mean of 24 dips now and then). */
const AMOUNT_GAP = { values: 24 };

/**
 * The series' drift stands: it reads medium, and its last 24 values are above the reference now
 * (drift.ts, aboveNow). Counting every medium reading toward the week accepted a surge as the new
 * level within a day of its start (its clock had started on a reference whose first values were
 * low, which reads medium now and then for good).
 */
function standing(series: AmountSeries, n: number, cfg: ScoringConfig): boolean {
  if (curve(driftEvidence(series.drift, series.drift?.s ?? 0, n), cfg.amountDrift) < BAND_MEDIUM) return false;
  return aboveNow(series.ref, series.recent.slice(-24));
}

/**
 * One log-value into the key's recent ring and slow reference sample; the rarest key is evicted past
 * the cap, never one of the event's own (`own`: the series it is learned into) while another can go.
 */
function learnSeries(s: MonitorState, key: string, value: number, cfg: ScoringConfig, own: readonly string[], now: number): void {
  const series = (s.amounts[key] ??= { recent: [], ref: [], seen: 0 });
  const x = Math.log1p(value);
  if (!series.top && series.seen > 0) {
    // A series from before `top` (release 9f2709c): its tail starts from the values it still holds,
    // and `topFrom` counts the ones before them, which no top value speaks for. Started empty, the
    // top held only values learned since the upgrade while `seen` counted the whole history, and
    // the run of record values (amount-run.ts) read ordinary amounts as records among thousands.
    series.top = [...series.recent].sort((a, b) => b - a).slice(0, 16);
    series.topFrom = series.seen - series.recent.length;
  }
  ring(series.recent, x, cfg.caps.amounts);
  // The 16 largest values ever (descending): the tail the exceedance p-value is measured on.
  const top = (series.top ??= []);
  if (top.length < 16 || x > top[top.length - 1]!) {
    let i = top.length;
    while (i > 0 && top[i - 1]! < x) i--;
    top.splice(i, 0, x);
    if (top.length > 16) top.pop();
  }
  // The drift reference is frozen: the series' first values (up to the cap), then never updated,
  // so a slow drift cannot drag its own yardstick along (a sliding reference adapts to any drift
  // slower than its span). A review that accepts the agent re-freezes it (feedback.acceptAsNormal).
  const n = Math.max(series.seen, series.recent.length);
  if (series.ref.length >= DRIFT_REF_MIN) series.drift = learnDrift(series.drift, series.ref, x, n);
  if (series.ref.length < cfg.caps.amountRef) series.ref.push(x);
  series.seen++;
  // A drift that has stood for a week and as many values as the reference holds is the series'
  // new level (drift.ts, ageDrift). Only where a drift is read (the pooled series has none).
  if (series.drift && key !== ANY_CURRENCY) {
    const age = series.age ?? {};
    // Accepted, the reference is the whole recent ring, as a review's is (feedback.ts): all of it came
    // after the drift first stood, `amountRef` values or more ago. Until 2026-12-07 it restarted
    // from the last 32 values and took the next 96 unjudged, whatever they were: a jump made right
    // after the acceptance (×3 accepted, then ×30) became its own yardstick and read no drift at
    // all, skipping the week of visible medium (origin/test/scoring-drift-age.test.ts).
    if (ageDrift(age, standing(series, n, cfg), series.seen, now, cfg.caps.amountRef, AMOUNT_GAP)) rebaseDrift(series, 0, cfg.caps.amountRef);
    else series.age = age.ft === undefined ? undefined : age;
  }
  const keys = Object.keys(s.amounts);
  if (keys.length > cfg.caps.keys) {
    // Before, a new currency's or unit's two new series (the action's, then the agent-wide one) at
    // the cap evicted each other on every event, so neither ever held more than one value.
    const others = keys.filter((k) => !own.includes(k));
    const rarest = (others.length > 0 ? others : keys.filter((k) => k !== key)).sort((a, b) => s.amounts[a]!.seen - s.amounts[b]!.seen)[0]!;
    delete s.amounts[rarest];
  }
}

/**
 * Hour profiles learn with a lag: the event is counted into its epoch hour's pending bucket, and
 * buckets older than `hourLagMs` are folded into the hour-of-day and hour-of-week counts. At
 * most lag/1 h + 2 buckets are pending at any time.
 */
function learnHours(s: MonitorState, t: number, cfg: ScoringConfig): void {
  const hour = Math.floor(t / HOUR);
  s.hourPending[String(hour)] = (s.hourPending[String(hour)] ?? 0) + 1;
  const blocks = (s.blockPending ??= dict());
  blocks[String(hour)] = (blocks[String(hour)] ?? 0) | (1 << Math.floor((t % HOUR) / HOUR_UNIT_MS));
  foldHours(s, Math.floor((Math.max(s.lastTs, t) - cfg.hourLagMs) / HOUR), cfg);
}

/** Active hours a profile needs before a new hour of day counts as off it (an hour model's own minimum, hourModel). */
const OFF_PROFILE_MIN_HOURS = 24;

/**
 * Folds the pending hour buckets before epoch hour `horizon` into the hour profiles (event counts
 * and active clock hours). learnHours folds those older than the lag; a review that accepts the
 * agent's recent activity folds them all at once (feedback.acceptAsNormal).
 */
export function foldHours(s: MonitorState, horizon: number, cfg: ScoringConfig): void {
  const blocks = (s.blockPending ??= dict());
  const act = (s.active ??= activeFromEvents(s));
  for (const k of Object.keys(s.hourPending)) {
    const h = Number(k);
    if (h >= horizon) continue;
    const count = s.hourPending[k]!;
    const mask = blocks[k] ?? 1;
    delete s.hourPending[k];
    delete blocks[k];
    const at = h * HOUR;
    const decay = Math.pow(0.5, Math.max(0, at - s.hoursT) / cfg.halfLife.hour);
    if (decay < 1) {
      for (let i = 0; i < 24; i++) s.hours[i]! *= decay;
      for (let i = 0; i < 168; i++) s.week[i]! *= decay;
      s.hoursTotal *= decay;
      for (let i = 0; i < 24; i++) act.hours[i]! *= decay;
      for (let i = 0; i < 168; i++) act.week[i]! *= decay;
      act.total *= decay;
      act.blocks *= decay;
      if (act.days !== undefined) act.days *= decay;
      if (act.off !== undefined) act.off *= decay;
    }
    s.hours[new Date(at).getUTCHours()]! += count;
    s.week[hourOfWeek(at)]! += count;
    s.hoursTotal += count;
    // One clock hour is one observation of the agent at that hour, however busy it was, and it is
    // observed once: an hour folded early (a review folds the hour it is made in) or one that a late
    // event reopens adds its events, not a second active hour.
    if (act.hour === undefined || h > act.hour) {
      // An hour of day the agent's grown profile had (almost) never seen within an hour either side
      // (unusualHour's `near`): how often it turns up off its profile is its own, and an agent that
      // often does is not as surprising there as one that never has (features.offProfileFloor).
      const hd = new Date(at).getUTCHours();
      if (act.total >= OFF_PROFILE_MIN_HOURS && activeNear(act.hours, hd) < 0.5) act.off = (act.off ?? 0) + 1;
      act.hours[hd]! += 1;
      act.week[hourOfWeek(at)]! += 1;
      act.total += 1;
      act.hour = h;
    }
    act.blocks += popcount(mask);
    // Working days: a UTC day counts once, when its first active hour is folded. Hours fold in time
    // order except for late events; a late hour of an earlier day is not counted (it may well have
    // been already), so a late event never counts a day twice.
    const day = Math.floor(at / (24 * HOUR));
    if (act.day === undefined || day > act.day) {
      act.days = (act.days ?? 0) + 1;
      act.day = day;
    }
    s.hoursT = Math.max(s.hoursT, at);
    if (s.hourSince < 0) s.hourSince = at;
  }
}

/** Sums read volume (or new resources) per clock hour; a closed hour's sum joins the ring of active hours (its 98th percentile is the peak). */
function learnVolumeHour(s: MonitorState, unit: VolumeUnit | typeof FANOUT_HOUR, t: number, value: number): void {
  const hour = Math.floor(t / HOUR);
  const v = (s.volume[unit] ??= { hour, sum: 0, past: [], peak: 0 });
  if (hour > v.hour) {
    if (v.sum > 0) {
      ring(v.past, v.sum, 240);
      v.peak = quantile(v.past, 0.98);
    }
    v.hour = hour;
    v.sum = 0;
  }
  if (hour === v.hour) v.sum += value;
}

/**
 * Updates every baseline with the event, after it was scored against them. `newTool`: the event is
 * its action's first use (actionNovelty's `novel`), remembered for noveltyBurst.
 */
export function learn(s: MonitorState, e: ScoredInput, cfg: ScoringConfig, novelAny: boolean, novelTransition: boolean, step = 0, late = false, newTool = false): void {
  const hl = cfg.halfLife.behaviour;
  const t = e.ts;
  const rateStep = newRateStep(s.n);
  s.actionNewRate += rateStep * ((s.actions[e.action] ? 0 : 1) - s.actionNewRate);
  if (e.resource) s.kindNewRate += rateStep * ((s.resourceKinds[resourceKind(e.resource)] ? 0 : 1) - s.kindNewRate);
  if (s.prevAction && s.actions[e.action]) {
    // The step-surprise baseline: a slow mean and variance of the short run, by the step.
    const q = s.seq;
    q.short = q.short * 0.75 + 0.25 * runStep(s, step, novelTransition);
    const last = (q.last ??= []);
    last.push(step);
    if (last.length > RUN_MEMORY) last.shift();
    const a = q.n < 100 ? 1 / (q.n + 1) : 0.005;
    const dev = q.short - q.mean;
    q.mean += a * dev;
    q.v = (1 - a) * (q.v + a * dev * dev);
    q.n++;
  }
  if (newTool && !late) {
    const tools = (s.newTools ??= []);
    tools.push(t);
    if (tools.length > NEW_TOOL_RING) tools.shift();
  }
  bump(s.actions, e.action, t, hl, cfg.caps.actions);
  bumpTotal(s.actionTotal, t, hl);
  if (s.prevAction) {
    bumpStep({ steps: s.transitions, outgoing: s.outgoing, successors: s.successors }, s.prevAction, e.action, t, hl, { steps: cfg.caps.transitions, outgoing: cfg.caps.actions });
  }
  // Late events do not rewrite the sequence: the previous action is the latest one in time.
  if (t >= s.lastTs) s.prevAction = e.action;
  if (e.resource) {
    const fresh = s.resources[e.resource] === undefined;
    learnVolumeHour(s, FANOUT_HOUR, t, fresh ? 1 : 0);
    bump(s.resourceKinds, resourceKind(e.resource), t, hl, cfg.caps.resourceKinds);
    bumpTotal(s.resourceKindTotal, t, hl);
    if (fresh) s.resourceCount++;
    s.resources[e.resource] = Math.max(t, s.resources[e.resource] ?? 0);
    s.resourceCount = forgetLeastRecent(s.resources, s.resourceCount, cfg.caps.resources, (seen) => seen);
  }
  const failed = e.outcome === "success" ? 0 : 1;
  s.outcomes.push(failed);
  if (s.outcomes.length > 20) s.outcomes.shift();
  // Recent timestamps for sliding-window rates; late events are placed in order.
  if (s.recentTs.length === 0 || t >= s.recentTs[s.recentTs.length - 1]!) s.recentTs.push(t);
  else s.recentTs.splice(s.recentTs.findIndex((x) => x > t), 0, t);
  if (s.recentTs.length > 256) s.recentTs.splice(0, s.recentTs.length - 256);
  s.errLong = s.outcomeN === 0 ? failed : s.errLong + 0.005 * (failed - s.errLong);
  s.outcomeN++;
  learnHours(s, t, cfg);
  // The series' clock for drift ageing: never an event's time stamped back (drift.ts, ageDrift).
  const now = Math.max(t, s.lastTs);
  if (e.amount !== undefined) {
    const own = [amountKey(e), wideKey(amountKey(e)), ANY_CURRENCY];
    for (const key of own) learnSeries(s, key, e.amount, cfg, own, now);
  }
  for (const unit of VOLUME_UNITS) {
    const v = e[unit];
    if (v === undefined) continue;
    const own = [volumeKey(e, unit), wideKey(volumeKey(e, unit))];
    for (const key of own) learnSeries(s, key, v, cfg, own, now);
    learnVolumeHour(s, unit, t, v);
  }
  if (e.latencyMs !== undefined) {
    const x = Math.log1p(e.latencyMs);
    // The long-run spread about a long-run mean (decayed, O(1) per event: a median of the ring
    // here would sort it a second time on every event).
    const d = s.latencySpread ?? { m: x, s: 0, w: 0 };
    const w = d.w * LATENCY_SPREAD_DECAY + 1;
    s.latencySpread = { m: d.m + (x - d.m) / w, s: d.s * LATENCY_SPREAD_DECAY + Math.abs(x - d.m), w };
    ring(s.latency, x, cfg.caps.amounts);
  }
  s.noveltyRun = s.noveltyRun * 0.8 + (novelAny ? 1 : 0);
  s.novelRate += (s.n < 50 ? 1 / (s.n + 1) : 0.01) * ((novelAny ? 1 : 0) - s.novelRate);
  s.seqRun = s.seqRun * 0.8 + (novelTransition ? 1 : 0);
  s.seqRate += (s.n < 50 ? 1 / (s.n + 1) : 0.01) * ((novelTransition ? 1 : 0) - s.seqRate);
  // The action mixes are EWMAs over the agent's current events: a late event is not one of them,
  // and back-dated ordinary events would pull the short mix back to normal for free (late-lane.ts).
  for (const [mix, alpha] of late ? [] : ([[s.mixShort, 0.02], [s.mixLong, 0.002]] as const)) {
    let size = 0;
    for (const k in mix) {
      mix[k]! *= 1 - alpha;
      if (mix[k]! < 1e-3) delete mix[k];
      else size++;
    }
    mix[e.action] = (mix[e.action] ?? 0) + alpha;
    if (size >= cfg.caps.actions) {
      let weakest = "";
      let min = Infinity;
      for (const k in mix) if (k !== e.action && mix[k]! < min) { min = mix[k]!; weakest = k; }
      delete mix[weakest];
    }
  }
  s.n++;
  s.lastTs = Math.max(s.lastTs, t);
}
