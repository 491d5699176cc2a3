import { z } from "zod";
import { bandOf, DEFAULT_THRESHOLDS, type Band, type BandThresholds } from "./bands.ts";
import { roundScore } from "./scoring/engine.ts";
import { resolveScoringConfig, SCORING_FEATURES } from "./scoring/schema.ts";

/**
 * A tenant's tuning of the scorer, applied on top of whatever the scorer computes (so it survives
 * changes to the scorer's internals): band thresholds, and per-feature weights that scale each
 * reason's evidence. Weights act on the noisy-OR "log survival" of a contribution: a reason of
 * contribution c under weight w counts as 1 − (1 − c)^w, so w = 0 mutes a feature, 1 leaves it,
 * 2 counts it as if it had been seen twice. Per-agent sensitivity is the same exponent on the
 * whole score.
 */
export interface TenantScoringOverrides {
  thresholds?: BandThresholds;
  weights?: Partial<Record<string, number>>;
}

export const SENSITIVITIES = ["low", "normal", "high"] as const;
export type Sensitivity = (typeof SENSITIVITIES)[number];
/** The exponent each sensitivity puts on an agent's evidence: low halves it, high doubles it. */
export const SENSITIVITY_FACTOR: Record<Sensitivity, number> = { low: 0.5, normal: 1, high: 2 };

const thresholds = z
  .strictObject({ medium: z.number().gt(0).lt(1), high: z.number().gt(0).lte(1) })
  .refine((t) => t.medium < t.high, { message: "medium must be below high", path: ["medium"] });
// Feature names and weight ranges are the scorer's own (SCORING_FEATURES, and resolveScoringConfig
// for the values), so a feature the scorer gains or renames is accepted or refused here without a copy.
const weights = z.record(z.string(), z.number()).superRefine((w, ctx) => {
  const unknown = Object.keys(w).filter((k) => !(SCORING_FEATURES as readonly string[]).includes(k));
  for (const k of unknown) ctx.addIssue({ code: "custom", path: [k], message: `unknown feature; one of ${SCORING_FEATURES.join(", ")}` });
  if (unknown.length) return;
  const r = resolveScoringConfig({ weights: w });
  if (!r.ok) for (const issue of r.issues) ctx.addIssue({ code: "custom", path: issue.path.slice(1), message: issue.message });
});

export const scoringOverridesSchema = z.strictObject({ thresholds: thresholds.optional(), weights: weights.optional() });

/** What a tenant stores and the edge receives: the active overrides and an optional shadow candidate. */
export interface TenantScoring extends TenantScoringOverrides {
  /** A candidate scored beside the active configuration without acting on it. */
  shadow?: (TenantScoringOverrides & { since: string }) | null;
}

const CAP = 0.999_999;

/**
 * Applies overrides to one verdict of the scorer. With no weights and sensitivity 1 the score is
 * exactly the scorer's. Reasons are rescaled with their weights and the score moves by the same
 * factors, so the explanation still adds up.
 */
export function applyOverrides(
  v: { score: number; reasons: readonly { feature: string; contribution: number; detail: string }[] },
  o: TenantScoringOverrides | undefined,
  sensitivity: Sensitivity = "normal",
): { score: number; band: Band; reasons: { feature: string; contribution: number; detail: string }[] } {
  const k = SENSITIVITY_FACTOR[sensitivity];
  let logKeep = Math.log(1 - Math.min(CAP, v.score)) * k;
  const reasons = v.reasons.map((r) => {
    const w = o?.weights?.[r.feature] ?? 1;
    const c = Math.min(CAP, r.contribution);
    // Remove the reason's share at weight 1 and put it back at weight w.
    logKeep += Math.log(1 - c) * k * (w - 1);
    return { ...r, contribution: roundScore(1 - Math.pow(1 - c, w * k)) };
  });
  const score = roundScore(Math.min(1, Math.max(0, 1 - Math.exp(Math.min(0, logKeep)))));
  reasons.sort((a, b) => b.contribution - a.contribution);
  return { score, band: bandOf(score, o?.thresholds ?? DEFAULT_THRESHOLDS), reasons: reasons.filter((r) => r.contribution > 0) };
}

/** True when the overrides change nothing (the scorer's verdict is used as it is). */
export function isIdentity(o: TenantScoringOverrides | undefined, sensitivity: Sensitivity = "normal"): boolean {
  if (sensitivity !== "normal") return false;
  if (!o) return true;
  const t = o.thresholds;
  const sameBands = !t || (t.medium === DEFAULT_THRESHOLDS.medium && t.high === DEFAULT_THRESHOLDS.high);
  return sameBands && Object.values(o.weights ?? {}).every((w) => w === 1);
}
