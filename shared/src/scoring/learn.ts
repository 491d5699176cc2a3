import type { ScoredInput } from "../events.ts";
import type { ScoringConfig } from "./config.ts";
import { resourceKind } from "./features.ts";
import { bump, bumpTotal, ewmaUpdate, ring, type MonitorState } from "./state.ts";

const MINUTE = 60_000;
/** Minutes of per-minute buckets kept for late (out-of-order) events. */
export const MINUTE_WINDOW = 120;

/**
 * Folds minutes that closed before `minute` into the rate and fan-out baselines. Only active
 * minutes count: an agent that works in bursts is compared with its own bursts, not with idle time.
 */
export function foldMinutes(s: MonitorState, minute: number): void {
  const keys = Object.keys(s.minutes).map(Number).sort((a, b) => a - b);
  for (const m of keys) {
    if (m >= minute) break;
    if (m > s.foldedMinute) {
      const [events, fresh] = s.minutes[String(m)]!;
      ewmaUpdate(s.rate, events, 0.05);
      ewmaUpdate(s.fanout, fresh, 0.05);
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
  const b = (s.minutes[String(minute)] ??= [0, 0, 0]);
  b[0]++;
  if (isNewResource) b[1]++;
  if (e.outcome !== "success") b[2]++;
  return { events: b[0], fresh: b[1] };
}

export function amountKey(e: ScoredInput): string {
  return `${e.action}|${e.currency ?? ""}`;
}

/** Updates every baseline with the event, after it was scored against them. */
export function learn(s: MonitorState, e: ScoredInput, cfg: ScoringConfig, novelAny: boolean): void {
  const hl = cfg.halfLife.behaviour;
  const t = e.ts;
  bump(s.actions, e.action, t, hl, cfg.caps.actions);
  bumpTotal(s.actionTotal, t, hl);
  if (s.prevAction) {
    bump(s.transitions, `${s.prevAction}\u0000${e.action}`, t, hl, cfg.caps.transitions);
    bump(s.outgoing, s.prevAction, t, hl, cfg.caps.actions);
  }
  // Late events do not rewrite the sequence: the previous action is the latest one in time.
  if (t >= s.lastTs) s.prevAction = e.action;
  if (e.resource) {
    bump(s.resourceKinds, resourceKind(e.resource), t, hl, cfg.caps.resourceKinds);
    bumpTotal(s.resourceKindTotal, t, hl);
    s.resources[e.resource] = Math.max(t, s.resources[e.resource] ?? 0);
    const keys = Object.keys(s.resources);
    if (keys.length > cfg.caps.resources) {
      // Forget the least recently seen quarter at once, so eviction cost is amortised.
      keys.sort((a, b) => s.resources[a]! - s.resources[b]!);
      for (const k of keys.slice(0, keys.length - Math.floor(cfg.caps.resources * 0.75))) delete s.resources[k];
    }
  }
  const failed = e.outcome === "success" ? 0 : 1;
  s.errShort += 0.1 * (failed - s.errShort);
  s.errLong = s.outcomeN === 0 ? failed : s.errLong + 0.005 * (failed - s.errLong);
  s.outcomeN++;
  const decay = Math.pow(0.5, Math.max(0, t - s.hoursT) / cfg.halfLife.hour);
  for (let h = 0; h < 24; h++) s.hours[h]! *= decay;
  s.hours[new Date(t).getUTCHours()]! += 1;
  s.hoursTotal = s.hoursTotal * decay + 1;
  s.hoursT = Math.max(s.hoursT, t);
  if (e.amount !== undefined) {
    const key = amountKey(e);
    const series = (s.amounts[key] ??= { recent: [], ref: [], seen: 0 });
    const x = Math.log1p(e.amount);
    ring(series.recent, x, cfg.caps.amounts);
    // The reference keeps every 8th amount: it spans ~8× more history, so slow drift shows.
    if (series.seen % 8 === 0) ring(series.ref, x, cfg.caps.amountRef);
    series.seen++;
    const keys = Object.keys(s.amounts);
    if (keys.length > cfg.caps.keys) {
      const rarest = keys.filter((k) => k !== key).sort((a, b) => s.amounts[a]!.seen - s.amounts[b]!.seen)[0]!;
      delete s.amounts[rarest];
    }
  }
  if (e.latencyMs !== undefined) ring(s.latency, Math.log1p(e.latencyMs), cfg.caps.amounts);
  s.noveltyRun = s.noveltyRun * 0.8 + (novelAny ? 1 : 0);
  for (const [mix, alpha] of [[s.mixShort, 0.02], [s.mixLong, 0.002]] as const) {
    for (const k of Object.keys(mix)) {
      mix[k]! *= 1 - alpha;
      if (mix[k]! < 1e-4) delete mix[k];
    }
    mix[e.action] = (mix[e.action] ?? 0) + alpha;
  }
  s.n++;
  s.lastTs = Math.max(s.lastTs, t);
}
