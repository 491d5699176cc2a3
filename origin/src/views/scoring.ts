import { z } from "zod";
import { DEFAULT_THRESHOLDS, SCORING_FEATURES, type TenantScoring } from "@kakunin/shared";

const thresholds = z.object({ medium: z.number(), high: z.number() });
const overrides = z.object({ thresholds: thresholds.optional(), weights: z.record(z.string(), z.number()).optional() });

export const scoringView = z.object({
  /** The thresholds in force (the tenant's, or the defaults). */
  thresholds,
  /** Weight per feature; features not listed weigh 1. */
  weights: z.record(z.string(), z.number()),
  shadow: overrides.extend({ since: z.string() }).nullable(),
  defaults: z.object({ thresholds }),
  features: z.array(z.string()),
  sensitivities: z.object({ low: z.number(), normal: z.number(), high: z.number() }),
  /**
   * Every change so far has been acknowledged by the edge (monitors apply it from their next
   * event). False while the edge is unreachable (the publisher retries until it answers) and while
   * the newest change is a dead letter the edge refused (replay it, or change the configuration again).
   */
  published: z.boolean(),
});
export type ScoringView = z.infer<typeof scoringView>;

export function toScoringView(s: TenantScoring, published: boolean): ScoringView {
  return {
    thresholds: s.thresholds ?? DEFAULT_THRESHOLDS,
    weights: Object.fromEntries(Object.entries(s.weights ?? {}).filter((e): e is [string, number] => e[1] !== undefined)),
    shadow: s.shadow
      ? { ...s.shadow, weights: Object.fromEntries(Object.entries(s.shadow.weights ?? {}).filter((e): e is [string, number] => e[1] !== undefined)) }
      : null,
    defaults: { thresholds: DEFAULT_THRESHOLDS },
    features: [...SCORING_FEATURES],
    sensitivities: { low: 0.5, normal: 1, high: 2 },
    published,
  };
}
