import { DEFAULT_SCORING, resolveScoringConfig, type ScoringConfig, type ScoringOverrides } from "@kakunin/shared";

/** The worlds a configuration can be fitted on: A = bench/anomaly's generator (its dev suite), B = world-b. */
export type World = "a" | "b";

/**
 * Every constant of the scorer that was chosen by looking at scores is fitted on ONE world. The
 * shipped defaults (DEFAULT_SCORING) are the configuration fitted on world A's dev suite; the
 * configuration fitted on world B is DEFAULT_SCORING with the overrides `--fit b` chose on world B
 * alone (the calibration knobs in fit.ts; everything else is the same code and the same defaults).
 * The cross-generator report scores each world with the configuration fitted on the OTHER one.
 */
export const FITTED_OVERRIDES: Record<World, ScoringOverrides> = {
  a: {},
  // Chosen by `pnpm --filter @kakunin/bench anomaly -- --world b --fit b` (grid in fit.ts, objective on
  // world B only), 2026-12-03: centre 4 / 4.5 / 5 / 5.5 gave FPR(high) 0.160 / 0.157 / 0.154 / 0.152 %,
  // 74 % of episodes high at each, 3 / 3 / 3 / 2 clean agents high; no point met FPR ≤ 0.05 %, so the
  // lowest FPR was taken. Re-run after the fresh-evidence change (features.freshEvidence), same day:
  // 0.125 / 0.118 / 0.111 / 0.106 %, 68 % high at each, 2 clean agents high at each; centre 5.5 again.
  // The episode scan replaced the sustained CUSUM (branch detect5): refit, same day, on the scan's
  // curve centre (grid 4.5 / 5.25 / 6 / 7 → FPR(high) 0.096 / 0.093 / 0.091 / 0.091 %, 71 / 71 / 68 /
  // 68 % of episodes high, 3 / 2 / 2 / 2 clean agents high); no point met the margin, so the lowest
  // FPR was taken: 7.
  b: { episode: { curve: { ...DEFAULT_SCORING.episode.curve, center: 7 } } },
};

export const FITTED_ON: Record<World, string> = {
  a: "world A dev suite (the shipped DEFAULT_SCORING)",
  b: "world B (DEFAULT_SCORING + overrides fitted by --fit b)",
};

export function fittedConfig(world: World): ScoringConfig {
  const r = resolveScoringConfig(FITTED_OVERRIDES[world], DEFAULT_SCORING);
  if (!r.ok) throw new Error(`fitted overrides for world ${world} are invalid: ${JSON.stringify(r.issues)}`);
  return r.value;
}
