import {
  applyOverrides,
  bandOf,
  DEFAULT_THRESHOLDS,
  isIdentity,
  roundScore,
  type AgentRisk,
  type Band,
  type BandThresholds,
  type EventScore,
  type Reason,
  type ShadowVerdict,
  type TenantScoringOverrides,
  type Sensitivity,
  type TenantScoring,
} from "@kakunin/shared";

export interface TenantVerdict {
  event: EventScore;
  risk: AgentRisk;
  thresholds: BandThresholds;
  shadow?: ShadowVerdict;
}

interface Verdict {
  score: number;
  reasons: readonly Reason[];
}

/**
 * The scorer's verdict as this tenant sees it: overrides (thresholds, feature weights) and the
 * agent's sensitivity applied on top, and the shadow candidate's verdict beside it. `prior` is the
 * agent's risk just before the event (decayed to the event's time), so "became high" is judged
 * with the tenant's own thresholds. `shownBand` is the band the tenant was last shown (the
 * monitor's risk view, decayed to the event's time): the active verdict's "became high" is judged
 * against it. With no overrides the scorer's verdict is returned unchanged.
 */
export function tenantVerdict(
  prior: Verdict,
  raw: { event: EventScore; risk: AgentRisk },
  scoring: TenantScoring | undefined,
  sensitivity: Sensitivity = "normal",
  shownBand?: Band,
): TenantVerdict {
  const computed = view(prior, raw, scoring, sensitivity) ?? { ...raw, thresholds: DEFAULT_THRESHOLDS };
  // "Became high" is a change of what the tenant was shown: after the tenant lowers its high
  // threshold, an agent already between the old and the new one is high from its next event, and
  // that must open a review (judged under the new configuration alone it was "already high", so
  // it sat high at verify with no review ever opened).
  // A late event high on its own counts too (it made the agent high at its own time; its risk has decayed since: the scorer's `late`).
  const high = computed.risk.band === "high" || computed.event.band === "high";
  const active = shownBand === undefined ? computed : { ...computed, risk: { ...computed.risk, becameHigh: high && shownBand !== "high" } };
  const shadow = scoring?.shadow;
  const candidate = shadow ? view(prior, raw, shadow, sensitivity, true) : undefined;
  if (!shadow || !candidate) return active;
  const differs = candidate.event.band !== active.event.band || candidate.risk.band !== active.risk.band;
  if (!differs && !candidate.risk.becameHigh) return active;
  return {
    ...active,
    shadow: {
      score: candidate.event.score,
      band: candidate.event.band,
      risk_band: candidate.risk.band,
      active_band: active.event.band,
      active_risk_band: active.risk.band,
      would_become_high: candidate.risk.becameHigh && !active.risk.becameHigh,
      // The origin counts a verdict only in the report of the candidate that gave it.
      since: shadow.since,
    },
  };
}

function view(
  prior: Verdict,
  raw: { event: EventScore; risk: AgentRisk },
  o: TenantScoringOverrides | undefined,
  sensitivity: Sensitivity,
  force = false,
): TenantVerdict | undefined {
  if (!force && isIdentity(o, sensitivity)) return undefined;
  const thresholds = o?.thresholds ?? DEFAULT_THRESHOLDS;
  const event = applyOverrides(raw.event, o, sensitivity);
  const risk = applyOverrides(raw.risk, o, sensitivity);
  const before = applyOverrides(prior, o, sensitivity);
  // Risk is never below this event's own score (as in the scorer), or what is left of it for a late event.
  const score = Math.max(risk.score, roundScore(event.score * (raw.risk.late ?? 1)));
  const band = bandOf(score, thresholds);
  return {
    event,
    risk: {
      score,
      band,
      reasons: risk.score >= event.score ? risk.reasons : event.reasons.slice(0, 5),
      becameHigh: (band === "high" || event.band === "high") && bandOf(before.score, thresholds) !== "high",
    },
    thresholds,
  };
}
