import { z } from "zod";
import { DEFAULT_SCORING, type ScoringConfig } from "./config.ts";

/**
 * Every feature the scorer can name in `reasons[].feature`, so a tenant override schema (weights,
 * shadow reports) can refer to them by name and reject unknown ones.
 */
export const SCORING_FEATURES = [
  "out_of_scope", "action_novelty", "novelty_run", "transition_novelty", "sequence_run", "resource_novelty",
  "rate_burst", "action_rate", "resource_fanout", "amount_over_max", "amount_spike", "amount_drift",
  "volume_over_max", "volume_spike", "volume_drift", "volume_hour",
  "error_ratio", "unusual_hour", "latency", "behaviour_drift", "mix_drift", "sustained", "sequence_surprise", "sustained_anomaly",
  "object_step", "object_run", "fanout_hour", "young_tool", "repeated_step", "accumulated_risk",
] as const;
export type ScoringFeature = (typeof SCORING_FEATURES)[number];

const unit = z.number().finite().min(0).max(1);
const positive = z.number().finite().positive();
const curve = z.strictObject({ center: z.number().finite(), width: positive, cap: unit });
const capInt = (max: number) => z.number().int().min(1).max(max);

/** The whole configuration, validated: what `scoreEvent` accepts and what overrides must produce. */
export const scoringConfigSchema = z.strictObject({
  halfLife: z.strictObject({ behaviour: positive, hour: positive }),
  warmup: z.strictObject({ novelty: z.number().min(0), rate: z.number().min(0), amount: z.number().min(0), outcome: z.number().min(0), hour: z.number().min(0) }),
  outOfScope: unit,
  actionNovelty: curve, noveltyRun: curve, transitionNovelty: curve, sequenceRun: curve, resourceKindNovelty: curve,
  resourceFanout: curve, rateBurst: curve, amountSpike: curve, amountMaxRatio: curve, amountDrift: curve, mixDrift: curve,
  errorStorm: curve, unusualHour: curve, latency: curve, behaviourDrift: curve,
  riskDecayMs: positive,
  riskAccumulation: unit,
  rareAction: z.number().min(0.5).max(100),
  scopePrior: z.strictObject({ explicit: unit, wildcard: unit }),
  weekWeight: z.number().min(0).max(10),
  hourLagMs: z.number().min(0).max(86_400_000),
  volumeHour: curve,
  sustained: z.strictObject({ slack: z.number().min(0), cap: positive, halfLifeMs: positive, curve }),
  sequenceSurprise: curve,
  objectStep: curve,
  objectRun: curve,
  noveltyBurst: curve,
  youngTool: curve,
  repeatedStep: curve,
  episode: z.strictObject({ windowMs: z.number().min(60_000).max(86_400_000), curve }),
  /** Per-feature multipliers of the contribution (1 = as measured, 0 = off); the result is clamped to [0, 1]. */
  weights: z.partialRecord(z.enum(SCORING_FEATURES), z.number().finite().min(0).max(10)),
  // Memory caps are not tenant-tunable beyond these bounds: they bound the Durable Object's state.
  caps: z.strictObject({
    actions: capInt(256), transitions: capInt(1024), resources: capInt(2048), resourceKinds: capInt(256),
    amounts: capInt(128), amountRef: capInt(128), keys: capInt(32), objects: capInt(128), objectSteps: capInt(512),
  }),
});

type DeepPartial<T> = { [K in keyof T]?: T[K] extends Record<string, unknown> ? DeepPartial<T[K]> : T[K] };
export type ScoringOverrides = DeepPartial<ScoringConfig>;

function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (base && typeof base === "object" && !Array.isArray(base) && over && typeof over === "object" && !Array.isArray(over)) {
    const out = Object.create(null) as Record<string, unknown>;
    for (const k of Object.keys(base)) out[k] = (base as Record<string, unknown>)[k];
    for (const k of Object.keys(over)) out[k] = merge((base as Record<string, unknown>)[k], (over as Record<string, unknown>)[k]);
    return { ...out };
  }
  return over;
}

/**
 * Applies overrides (any subset of the config, e.g. from a tenant's stored settings) to a base
 * configuration and validates the result; unknown keys and out-of-range values are refused with
 * zod's issues, so a bad override never reaches the scorer.
 */
export function resolveScoringConfig(overrides: unknown, base: ScoringConfig = DEFAULT_SCORING): { ok: true; value: ScoringConfig } | { ok: false; issues: z.core.$ZodIssue[] } {
  const merged = merge(base, overrides ?? {});
  const r = scoringConfigSchema.safeParse(merged);
  return r.success ? { ok: true, value: r.data as ScoringConfig } : { ok: false, issues: r.error.issues };
}
