import { inScope } from "../scope.ts";
import type { ScoredInput } from "../events.ts";
import { curve, type ScoringConfig } from "./config.ts";
import { decayedAt, mad, median, type MonitorState } from "./state.ts";

/** One feature's verdict on one event; `contribution` in [0,1], `detail` for humans. */
export interface Reason {
  feature: string;
  contribution: number;
  detail: string;
}

const conf = (n: number, warmup: number) => n / (n + warmup);
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

/** Resources with ids stripped, so `customers/8812/orders` and `customers/17/orders` are one kind. */
export function resourceKind(resource: string): string {
  return resource
    .toLowerCase()
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "{uuid}")
    .replace(/\b[0-9a-f]{16,}\b/g, "{hex}")
    .replace(/\d+/g, "#")
    .slice(0, 96);
}

export function outOfScope(e: ScoredInput, scopes: readonly string[], cfg: ScoringConfig): Reason | undefined {
  if (scopes.length === 0 || inScope(scopes, e.action)) return undefined;
  return reason("out_of_scope", cfg.outOfScope, `action '${e.action}' is not covered by the declared scopes`);
}

export function actionNovelty(s: MonitorState, e: ScoredInput, scopes: readonly string[], cfg: ScoringConfig): { r?: Reason; novel: boolean } {
  const hl = cfg.halfLife.behaviour;
  const c = decayedAt(s.actions[e.action], e.ts, hl);
  const total = decayedAt(s.actionTotal, e.ts, hl);
  const novel = c < 0.5;
  if (!novel) return { novel };
  // Cold start uses the declared scopes as the prior: an action named explicitly is expected,
  // one covered only by a wildcard half so; out-of-scope ones are judged by their own feature.
  const explicit = scopes.includes(e.action);
  const prior = explicit ? 0.25 : inScope(scopes, e.action) ? 0.75 : 1;
  const x = surprisal(c, total, Object.keys(s.actions).length);
  const contribution = curve(x, cfg.actionNovelty) * prior * conf(s.n, cfg.warmup.novelty);
  return { r: reason("action_novelty", contribution, `first use of '${e.action}' after ${Math.round(total)} events`), novel };
}

export function noveltyRun(s: MonitorState, cfg: ScoringConfig): Reason | undefined {
  // s.noveltyRun counts recent novel actions/resource kinds (decays ×0.8 per event).
  const contribution = curve(s.noveltyRun, cfg.noveltyRun) * conf(s.n, cfg.warmup.novelty);
  return reason("novelty_run", contribution, `${s.noveltyRun.toFixed(1)} recent first-time actions or resource kinds`);
}

export function transitionNovelty(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): Reason | undefined {
  const prev = s.prevAction;
  if (!prev || !s.actions[e.action]) return undefined; // a new action is judged by action_novelty
  const hl = cfg.halfLife.behaviour;
  const key = `${prev}\u0000${e.action}`;
  const c = decayedAt(s.transitions[key], e.ts, hl);
  if (c >= 0.5) return undefined;
  const out = decayedAt(s.outgoing[prev], e.ts, hl);
  const distinct = Object.keys(s.transitions).filter((k) => k.startsWith(`${prev}\u0000`)).length;
  const x = surprisal(c, out, distinct);
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
  const x = surprisal(c, total, Object.keys(s.resourceKinds).length);
  const contribution = curve(x, cfg.resourceKindNovelty) * conf(s.n, cfg.warmup.novelty);
  return { r: reason("resource_novelty", contribution, `first access to a resource like '${kind}'`), novel: true };
}

/** z-like score of `k` against an EWMA baseline; variance floor keeps a flat baseline from exploding. */
function burstScore(k: number, mean: number, variance: number): number {
  return (k - mean) / Math.sqrt(variance + mean + 1);
}

export function rateBurst(s: MonitorState, minuteCount: number, cfg: ScoringConfig): Reason | undefined {
  if (s.rate.n < 3) return undefined;
  const z = burstScore(minuteCount, s.rate.mean, s.rate.var);
  const contribution = curve(z, cfg.rateBurst) * conf(s.rate.n, cfg.warmup.rate);
  return reason("rate_burst", contribution, `${minuteCount} events this minute vs a usual ${s.rate.mean.toFixed(1)}/min`);
}

export function resourceFanout(s: MonitorState, newResources: number, cfg: ScoringConfig): Reason | undefined {
  if (s.fanout.n < 3 || newResources === 0) return undefined;
  const z = burstScore(newResources, s.fanout.mean, s.fanout.var);
  const contribution = curve(z, cfg.resourceFanout) * conf(s.fanout.n, cfg.warmup.rate);
  return reason("resource_fanout", contribution, `${newResources} distinct new resources this minute vs a usual ${s.fanout.mean.toFixed(1)}`);
}

export function amountFeatures(s: MonitorState, e: ScoredInput, key: string, cfg: ScoringConfig): Reason[] {
  if (e.amount === undefined) return [];
  const series = s.amounts[key];
  if (!series || series.recent.length < 8) return [];
  const x = Math.log1p(e.amount);
  const med = median(series.recent);
  // MAD floor (5% in log space) so an agent that always pays the same amount does not divide by zero.
  const scale = 1.4826 * mad(series.recent, med) + 0.05;
  const z = (x - med) / scale;
  const out: Reason[] = [];
  const w = conf(series.seen, cfg.warmup.amount);
  // Large amounts are the risk; unusually small ones count a third.
  const spike = curve(z > 0 ? z : -z / 3, cfg.amountSpike) * w;
  const r1 = reason("amount_spike", spike, `${e.amount}${e.currency ? " " + e.currency : ""} is ${Math.expm1(x - med) >= 0 ? (Math.exp(x - med)).toFixed(1) + "×" : "far below"} the usual ${Math.expm1(med).toFixed(2)} (robust z ${z.toFixed(1)})`);
  if (r1) out.push(r1);
  if (series.ref.length >= 32) {
    // Slow drift: the recent median has walked away from the slow reference sample.
    const refMed = median(series.ref);
    const refScale = 1.4826 * mad(series.ref, refMed) + 0.05;
    const recentMed = median(series.recent.slice(-24));
    const dz = (recentMed - refMed) / refScale;
    const r2 = reason("amount_drift", curve(dz, cfg.amountDrift) * w, `recent median ${Math.expm1(recentMed).toFixed(2)} has drifted from the reference ${Math.expm1(refMed).toFixed(2)} (z ${dz.toFixed(1)})`);
    if (r2) out.push(r2);
  }
  return out;
}

export function errorStorm(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): Reason | undefined {
  if (e.outcome === "success" && s.errShort < 0.2) return undefined;
  const base = Math.min(Math.max(s.errLong, 0.01), 0.95);
  // Effective sample of the short EWMA (α = 0.1) is ~19 events.
  const z = (s.errShort - base) / Math.sqrt((base * (1 - base)) / 19);
  const contribution = curve(z, cfg.errorStorm) * conf(s.outcomeN, cfg.warmup.outcome);
  return reason("error_ratio", contribution, `${Math.round(s.errShort * 100)}% of recent events failed or were denied vs a usual ${Math.round(base * 100)}%`);
}

export function unusualHour(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): Reason | undefined {
  const h = new Date(e.ts).getUTCHours();
  const decay = Math.pow(0.5, Math.max(0, e.ts - s.hoursT) / cfg.halfLife.hour);
  const total = s.hoursTotal * decay;
  if (total < 24) return undefined;
  const x = surprisal(s.hours[h]! * decay, total, 24);
  const contribution = curve(x, cfg.unusualHour) * conf(total, cfg.warmup.hour);
  return reason("unusual_hour", contribution, `activity at ${String(h).padStart(2, "0")}:00 UTC is rare for this agent`);
}

export function latencyOutlier(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): Reason | undefined {
  if (e.latencyMs === undefined || s.latency.length < 30) return undefined;
  const x = Math.log1p(e.latencyMs);
  const med = median(s.latency);
  const z = Math.abs(x - med) / (1.4826 * mad(s.latency, med) + 0.05);
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
