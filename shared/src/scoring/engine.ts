import { bandOf, type Band } from "../bands.ts";
import { clampText, wellFormed } from "../unicode.ts";
import type { ScoredInput } from "../events.ts";
import { DEFAULT_SCORING, type ScoringConfig } from "./config.ts";
/** The wire's limit on a reason's detail (shared/src/wire/events.ts reasonSchema), in characters. */
const REASON_DETAIL_MAX = 512;
import {
  actionNovelty,
  amountFeatures,
  fanoutHour,
  behaviourDrift,
  errorStorm,
  latencyOutlier,
  noveltyBurst,
  noveltyRun,
  outOfScope,
  rateBurst,
  freshEvidence,
  resourceFanout,
  runStep,
  resourceKindNovelty,
  sequenceRun,
  sequenceSurprise,
  stepSurprise,
  sustainedAnomaly,
  transitionNovelty,
  owedWork,
  unusualHour,
  volumeHour,
  type Reason,
} from "./features.ts";
import { amountKey, countMinute, foldMinutes, judgedKey, learn, VOLUME_UNITS, volumeKey } from "./learn.ts";
import { contextOf, learnObjectStep, objectRun, objectStep } from "./object-steps.ts";
import { learnRepeatedStep, repeatedStep } from "./repeated-steps.ts";
import { learnYoungTool, youngTool } from "./young-tools.ts";
import { learnMix, mixDrift } from "./mix-drift.ts";
import { decayedAt, newEpisodeState, type MonitorState } from "./state.ts";
import { inLateLane, LATE_MS } from "./late-lane.ts";
import { actionRate, countActionMinute } from "./action-rate.ts";

export interface EventScore {
  score: number;
  band: Band;
  /** Contributing features, strongest first. */
  reasons: Reason[];
}

export interface AgentRisk {
  score: number;
  band: Band;
  reasons: Reason[];
  /** Set when this event moved the agent's risk into the high band, or is high itself while the agent was not. */
  becameHigh: boolean;
  /**
   * A late event (older than the agent's risk): what is left of its own score now, as a factor
   * (decayRisk of 1 over the time since it happened). Absent for an event on time.
   */
  late?: number;
}

/** Scores and contributions as they are reported and stored: three decimals. */
export const roundScore = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * An agent's lingering risk `dtMs` after it was set: it decays exponentially between events
 * (time constant `riskDecayMs`). One formula for the scorer, the monitor's views and verify.
 */
export function decayRisk(score: number, dtMs: number, cfg: ScoringConfig = DEFAULT_SCORING): number {
  return score * Math.exp(-Math.max(0, dtMs) / cfg.riskDecayMs);
}

/** Reasons that say the agent has moved away from its own reference: a matter for review (config.ts). */
const DRIFT_FEATURES: ReadonlySet<string> = new Set(["amount_drift", "volume_drift", "mix_drift", "behaviour_drift"]);
/** The most drift can make of an event that shows nothing else of medium weight: medium, also once rounded. */
const DRIFT_CEILING = 0.849;

/**
 * Drift is for review, never a revocation: it raises an event's score at most to DRIFT_CEILING,
 * and only the event's other reasons take it higher (`score` is the noisy-OR of all reasons,
 * `other` of the rest). Drift is a standing condition of the agent's series, on every event while
 * it lasts, so adding it to whatever else an event shows made any small reason beside it a
 * revocation: amount_drift's cap of 0.85 was meant to keep it below high, but its saturated curve
 * rounds to 0.850, and with a first use of a tool (0.43) or a small rate rise (0.08) beside it the
 * noisy-OR was high: world D's clean payout, claims and analyst agents were auto-revoked on
 * ordinary events that way, blind (bench/README.md).
 */
function driftCapped(score: number, reasons: readonly Reason[]): { score: number; other: number } {
  const other = 1 - survivals(reasons).other;
  return { score: Math.max(other, Math.min(score, DRIFT_CEILING)), other };
}

/** The products of (1 − contribution) of the drift reasons and of the others (what each leaves). */
function survivals(reasons: readonly Reason[]): { drift: number; other: number } {
  let drift = 1;
  let other = 1;
  for (const r of reasons) {
    if (DRIFT_FEATURES.has(r.feature)) drift *= 1 - r.contribution;
    else other *= 1 - r.contribution;
  }
  return { drift, other };
}

/**
 * After driftCapped lowered an event's score: the drift reasons' contributions are scaled down
 * (their log survivals by one factor) so that the noisy-OR of all the reasons is the score again.
 * Everything downstream reads a score as the noisy-OR of the reasons it lists: the tenant layer
 * (applyOverrides) took a capped score beside full-strength drift for evidence that had decayed,
 * and scaled every reason's weight change down with it, so a tenant that muted the drift
 * (weights 0, as docs/alerts-and-review.md suggests for mix_drift) also muted most of the other
 * reasons: an out-of-scope event at 0.95 beside saturated amount_drift read 0.85 for it, and
 * lower ones fell out of high (origin/test/scoring-drift.test.ts).
 */
function explainCap(reasons: Reason[], score: number): void {
  const { drift: keepDrift, other: keepOther } = survivals(reasons);
  // score >= other (driftCapped), so the drift's share left is in (0, 1]; none left when other is the score.
  if (keepDrift <= 0 || keepDrift >= 1 || keepOther <= 0) return;
  const factor = Math.log(Math.min(1, (1 - score) / keepOther)) / Math.log(keepDrift);
  for (const [i, r] of reasons.entries()) {
    if (DRIFT_FEATURES.has(r.feature)) reasons[i] = { ...r, contribution: 1 - Math.pow(1 - r.contribution, factor) };
  }
}

/** The stronger of two readings of one feature (novelty_run's run and its hour's count). */
function stronger(a: Reason | undefined, b: Reason | undefined): Reason | undefined {
  return !b || (a && a.contribution >= b.contribution) ? a : b;
}

/** A tenant's per-feature weight (default 1), the contribution clamped to [0, 1]. */
function weighted(r: Reason, cfg: ScoringConfig): Reason {
  const w = cfg.weights[r.feature];
  return w === undefined || w === 1 ? r : { ...r, contribution: Math.min(1, Math.max(0, r.contribution * w)) };
}

/** The five strongest reasons of two lists, one per feature (the stronger of a feature's two). */
function mergeReasons(a: readonly Reason[], b: readonly Reason[]): Reason[] {
  const best = new Map<string, Reason>();
  for (const r of [...a, ...b]) if ((best.get(r.feature)?.contribution ?? -1) < r.contribution) best.set(r.feature, r);
  return [...best.values()].sort((x, y) => y.contribution - x.contribution).slice(0, 5);
}

/** Each feature's evidence on this event, in nats. */
function evidenceOf(reasons: readonly Reason[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of reasons) out[r.feature] = -Math.log(1 - Math.min(r.contribution, 0.999));
  return out;
}

/** A step between two known actions that this agent has never taken (whatever its surprisal). */
function isNovelTransition(s: MonitorState, e: ScoredInput, cfg: ScoringConfig): boolean {
  if (!s.prevAction || !s.actions[e.action]) return false;
  return decayedAt(s.transitions[`${s.prevAction}\u0000${e.action}`], e.ts, cfg.halfLife.behaviour) < 0.5;
}

/**
 * Scores one event against what the agent has done so far, then learns from it. Deterministic:
 * the same state and event always give the same score. The event score is the noisy-OR of the
 * feature contributions; the agent's risk is the max of that and its decayed previous risk, to
 * which events of 0.5 or more add (several strong anomalies in quick succession escalate).
 */
export function scoreEvent(
  s: MonitorState,
  e: ScoredInput,
  scopes: readonly string[],
  cfg: ScoringConfig = DEFAULT_SCORING,
  now = Infinity,
): { event: EventScore; risk: AgentRisk } {
  // An event older than the agent's latest is scored in the late lane, on recency windows of its own
  // (late-lane.ts). `now`, the receipt time where there is one (the monitor): an event stamped in
  // the future (within the edge's clock-skew tolerance) must not make the agent's next real events late.
  const present = Math.min(now, s.lastTs);
  if (e.ts < present - LATE_MS) return inLateLane(s, e, cfg.episode.windowMs, () => scoreInPlace(s, e, scopes, cfg, now, true));
  return scoreInPlace(s, e, scopes, cfg, now);
}

function scoreInPlace(
  s: MonitorState,
  e: ScoredInput,
  scopes: readonly string[],
  cfg: ScoringConfig,
  now: number,
  late = false,
): { event: EventScore; risk: AgentRisk } {
  foldMinutes(s, Math.floor(Math.max(e.ts, s.lastTs) / 60_000));
  const isNewResource = e.resource !== undefined && s.resources[e.resource] === undefined;
  const bucket = countMinute(s, e, isNewResource);
  const perAction = bucket ? countActionMinute(s, e, cfg) : undefined;

  const action = actionNovelty(s, e, scopes, cfg);
  const kind = resourceKindNovelty(s, e, cfg);
  const novelAny = action.novel || kind.novel;
  // The run includes this event's own novelty, as it will after learning.
  const run = { ...s, noveltyRun: s.noveltyRun * 0.8 + (novelAny ? 1 : 0) };
  const transition = transitionNovelty(s, e, cfg, action.x);
  // The state of the event's object (its last step, or a first touch), as it was before this event.
  const ctx = e.resource === undefined ? undefined : contextOf(s, e.resource);
  const object = objectStep(s, e, ctx, cfg, action.x);
  const novelTransition = isNovelTransition(s, e, cfg);
  const step = stepSurprise(s, e, cfg);
  // A late event (back-filled history) neither starts a session nor uses the live one's credit.
  const owed = late ? { t: e.ts, hours: 0, fresh: false } : owedWork(s, e, cfg);
  const reasons = [
    outOfScope(e, scopes, cfg),
    action.r,
    youngTool(s, e, cfg),
    stronger(novelAny ? noveltyRun(run, cfg) : undefined, action.novel && !late ? noveltyBurst(s, e, action.x, cfg) : undefined),
    transition,
    novelTransition ? sequenceRun(s, true, cfg) : undefined,
    s.prevAction && s.actions[e.action] ? sequenceSurprise(s, runStep(s, step, novelTransition), cfg) : undefined,
    kind.r,
    object.r,
    object.novel ? objectRun(s, e, cfg) : undefined,
    late ? undefined : repeatedStep(s, e, ctx, cfg),
    // Two readings of one rate (the agent's total, this action's): the stronger counts, not both.
    stronger(bucket ? rateBurst(s, e, cfg) : undefined, perAction ? actionRate(s, e, perAction, cfg) : undefined),
    bucket && isNewResource ? resourceFanout(s, bucket.fresh, cfg) : undefined,
    isNewResource ? fanoutHour(s, e, cfg) : undefined,
    ...amountFeatures(s, e, judgedKey(s, amountKey(e)), cfg),
    ...VOLUME_UNITS.flatMap((u) =>
      e[u] === undefined ? [] : [...amountFeatures(s, e, judgedKey(s, volumeKey(e, u)), cfg, e[u], "volume"), volumeHour(s, e, u, cfg)],
    ),
    errorStorm(s, e, cfg),
    unusualHour(s, e, cfg, owed.hours),
    latencyOutlier(s, e, cfg),
    behaviourDrift(s, cfg),
    mixDrift(s, e.action, cfg),
  ]
    .filter((r): r is Reason => r !== undefined)
    .map((r) => weighted(r, cfg))
    .filter((r) => r.contribution >= 0.01);

  let keep = 1;
  for (const r of reasons) keep *= 1 - r.contribution;
  // Episode-level evidence: what this event adds that the recent ones have not already shown.
  // Drift is not episode evidence: a standing condition of a series marked the scan again each time
  // it lasted, and sustained_anomaly made the drift high by another name (driftCapped).
  const episodic = reasons.filter((r) => !DRIFT_FEATURES.has(r.feature));
  const { novel, held, top } = freshEvidence(s.cusum.held ?? {}, s.cusum.t, (s.cusum.runs ??= {}), episodic, e.ts, cfg);
  // Episode-level escalation: the scan over the last hour's events (features.sustainedAnomaly)
  // replaced the CUSUM of fresh evidence (`sustained`), which credited a window feature's
  // repetition and so escalated every catch-up backlog at a rare hour.
  const scan = sustainedAnomaly((s.episode ??= newEpisodeState()), { ts: e.ts, novel, top, held, now: evidenceOf(episodic), runs: s.cusum.runs }, cfg);
  s.cusum = { s: 0, t: Math.max(s.cusum.t, e.ts), held, runs: s.cusum.runs };
  if (scan) {
    const r = weighted(scan, cfg);
    if (r.contribution >= 0.01) {
      reasons.push(r);
      keep *= 1 - r.contribution;
    }
  }
  // Agent risk: the decayed earlier risk, plus this event's evidence if it is clearly anomalous.
  const decayed = decayRisk(s.risk.score, e.ts - s.risk.t, cfg);
  // A late event (older than the risk) adds to the risk as it stands now only what is left of it:
  // scored at its own time, its risk has decayed since like any other. Before, an anomaly six hours
  // old that arrived late set the agent's current risk (verify, ?max_band=) to its full score.
  const since = decayRisk(1, Math.min(now, s.risk.t) - e.ts, cfg);
  // Only clearly anomalous events (≥ 0.5) add to lingering risk, and only with the evidence they
  // bring that the recent events had not already shown (a window feature repeating itself over a
  // busy session adds nothing): mediums from ordinary novelty must not add up to an auto-revocation.
  // What the event adds to lingering risk is its evidence other than drift: a drifting series
  // repeats its drift on every event, and a decayed drift score plus a small reason was high.
  const { score: own, other: ownOther } = driftCapped(1 - keep, reasons);
  const freshScore = Math.min(ownOther, 1 - Math.exp(-novel));
  const accumulated = ownOther >= 0.5 ? 1 - (1 - decayed) * (1 - cfg.riskAccumulation * freshScore * since) : decayed;
  // An anomalous event that takes the agent to high is what triggers the revocation check, so it
  // is reported high too, naming the earlier evidence it was added to: otherwise the event a
  // gateway or SIEM sees as medium is the one the agent was revoked over.
  const lifted = ownOther >= 0.5 && accumulated > own && bandOf(accumulated) === "high" && bandOf(decayed) !== "high";
  if (lifted) {
    const r = weighted(
      {
        feature: "accumulated_risk",
        // Against the evidence other than drift, which is what the event's score is made of above the drift ceiling.
        contribution: 1 - (1 - accumulated) / (1 - ownOther),
        detail: `added to the agent's recent anomalies (risk ${decayed.toFixed(2)} before this event), this event takes its risk to ${accumulated.toFixed(2)}`,
      },
      cfg,
    );
    if (r.contribution >= 0.01) {
      reasons.push(r);
      keep *= 1 - r.contribution;
    }
  }
  const capped = driftCapped(1 - keep, reasons).score;
  const score = roundScore(capped);
  if (capped < 1 - keep) explainCap(reasons, capped);
  reasons.sort((a, b) => b.contribution - a.contribution);
  // A reason's detail quotes the agent's own text (actions, resource kinds): made well-formed and
  // cut to the wire's 512 characters here, once, so no alert or forwarded event carrying it can be
  // refused downstream (a lone surrogate from a cut emoji made the origin refuse the risk alert:
  // no decision, no revocation).
  const rounded = reasons.map((r) => ({ ...r, contribution: roundScore(r.contribution), detail: clampText(wellFormed(r.detail), REASON_DETAIL_MAX) }));

  learn(s, e, cfg, novelAny, novelTransition, step, late, action.novel);
  learnObjectStep(s, e, ctx, cfg, object.novel);
  learnYoungTool(s, e, cfg, action.rare);
  // The action mix is a share of the agent's events in blocks of 16, and late events are not in its
  // current blocks: back-dated ordinary events would dilute a creeping share at no cost.
  if (!late) learnMix(s, e.action, s.lastTs, cfg);
  // Watches count the objects that reach a state from now on; a late event's object is history.
  if (!late) learnRepeatedStep(s, e, ctx, cfg, object.novel && object.p !== undefined ? { p: object.p } : undefined);
  if (owed.fresh) s.owed = owed.hours > 0 ? { t: owed.t, hours: owed.hours } : undefined;

  const risk = roundScore(Math.max(score * since, accumulated));
  // A lifted event's reasons name only its own share: the risk keeps the earlier evidence beside it.
  const riskReasons = lifted ? mergeReasons(rounded, s.risk.reasons) : score * since >= accumulated ? rounded.slice(0, 5) : s.risk.reasons;
  s.risk = { score: risk, t: Math.max(s.risk.t, e.ts), reasons: riskReasons };
  return {
    event: { score, band: bandOf(score), reasons: rounded },
    // A late event high on its own made the agent high at its time: the alert it raised then is raised now (on time, risk ≥ score).
    risk: {
      score: risk,
      band: bandOf(risk),
      reasons: riskReasons,
      becameHigh: bandOf(decayed) !== "high" && (bandOf(risk) === "high" || bandOf(score) === "high"),
      ...(since < 1 && { late: since }),
    },
  };
}
