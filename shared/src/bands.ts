/** Risk bands of the design: low < 0.3 ≤ medium < 0.85 ≤ high. */
export const BAND_MEDIUM = 0.3;
export const BAND_HIGH = 0.85;

export type Band = "low" | "medium" | "high";
/** The bands, lowest first (for schemas and checks of a caller's `max_band`). */
export const BANDS = ["low", "medium", "high"] as const satisfies readonly Band[];

/** Where the bands start; a tenant may override them (GET/PATCH /v1/tenant/scoring). */
export interface BandThresholds {
  medium: number;
  high: number;
}

export const DEFAULT_THRESHOLDS: BandThresholds = { medium: BAND_MEDIUM, high: BAND_HIGH };

export function bandOf(score: number, t: BandThresholds = DEFAULT_THRESHOLDS): Band {
  if (score >= t.high) return "high";
  if (score >= t.medium) return "medium";
  return "low";
}

const RANK: Record<Band, number> = { low: 0, medium: 1, high: 2 };

/** True when `band` is worse than `max` (a gateway's `max_band`). */
export function bandAbove(band: Band, max: Band): boolean {
  return RANK[band] > RANK[max];
}
