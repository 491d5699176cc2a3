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

/**
 * Thresholds as a PATCH gives them: either or both (JSON Merge Patch, RFC 7396, as a user of any
 * PATCH API expects: `{"thresholds":{"high":0.9}}` moves the high line and keeps the medium one;
 * `{"thresholds":{"high":null}}` removes the override of that line, so it is the default again).
 * Ranges are checked here; medium < high once merged (mergeThresholds).
 */
export const thresholdsPatchSchema = z
  .strictObject({ medium: z.number().gt(0).lt(1).nullable().optional(), high: z.number().gt(0).lte(1).nullable().optional() })
  .refine((t) => t.medium !== undefined || t.high !== undefined, { message: "give medium, high or both" });
/** A shadow candidate in a PATCH: like the overrides, but its thresholds may be partial (merged onto the defaults). */
export const scoringCandidatePatchSchema = z.strictObject({ thresholds: thresholdsPatchSchema.optional(), weights: weights.optional() });

/** `patch` merged onto `base` (a null line is the default), or the field and message of the rule the result breaks. */
export function mergeThresholds(
  base: BandThresholds,
  patch: { medium?: number | null | undefined; high?: number | null | undefined },
): { ok: true; value: BandThresholds } | { ok: false; path: "medium" | "high"; message: string } {
  const line = (k: "medium" | "high") => (patch[k] === null ? DEFAULT_THRESHOLDS[k] : (patch[k] ?? base[k]));
  const value = { medium: line("medium"), high: line("high") };
  if (value.medium < value.high) return { ok: true, value };
  return patch.medium !== undefined
    ? { ok: false, path: "medium", message: `medium must be below high (${value.high})` }
    : { ok: false, path: "high", message: `high must be above medium (${value.medium})` };
}

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
  const scoreLog = Math.log(1 - Math.min(CAP, v.score));
  let logKeep = scoreLog * k;
  const share = evidenceShare(scoreLog, v.reasons);
  const reasons = v.reasons.map((r) => {
    const w = o?.weights?.[r.feature] ?? 1;
    const c = Math.min(CAP, r.contribution);
    // Remove the reason's share at weight 1 and put it back at weight w (only the share of it the
    // score still carries: an agent's decayed risk keeps the reasons of the event that set it).
    logKeep += Math.log(1 - c) * share * k * (w - 1);
    return { ...r, contribution: roundScore(1 - Math.pow(1 - c, w * k)) };
  });
  const score = roundScore(Math.min(1, Math.max(0, 1 - Math.exp(Math.min(0, logKeep)))));
  reasons.sort((a, b) => b.contribution - a.contribution);
  return { score, band: bandOf(score, o?.thresholds ?? DEFAULT_THRESHOLDS), reasons: reasons.filter((r) => r.contribution > 0) };
}

/**
 * How much of its reasons' evidence a score still carries, in [0, 1]. An event's score is the
 * noisy-OR of its reasons (1, up to the rounding of three decimals). The agent's risk decays
 * between events but keeps the reasons of the event that set it at their original contributions:
 * there the reasons hold more evidence than the score, and the share is the ratio of their log
 * survivals. Without it a weight above 1 put a risk decayed to nothing back at the reason's full
 * strength (under `out_of_scope: 2` one out-of-scope call kept an agent high for about two hours).
 */
function evidenceShare(scoreLog: number, reasons: readonly { contribution: number }[]): number {
  let reasonsLog = 0;
  for (const r of reasons) reasonsLog += Math.log(1 - Math.min(CAP, r.contribution));
  if (reasonsLog >= 0) return 1;
  const explained = 1 - Math.exp(reasonsLog);
  // Each rounded value is off by at most 0.0005: a score within that of its reasons is theirs.
  if (1 - Math.exp(scoreLog) >= explained - 0.0005 * (reasons.length + 1)) return 1;
  return Math.min(1, scoreLog / reasonsLog);
}

/** True when the overrides change nothing (the scorer's verdict is used as it is). */
export function isIdentity(o: TenantScoringOverrides | undefined, sensitivity: Sensitivity = "normal"): boolean {
  if (sensitivity !== "normal") return false;
  if (!o) return true;
  const t = o.thresholds;
  const sameBands = !t || (t.medium === DEFAULT_THRESHOLDS.medium && t.high === DEFAULT_THRESHOLDS.high);
  return sameBands && Object.values(o.weights ?? {}).every((w) => w === 1);
}
