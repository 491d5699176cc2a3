/** Risk bands of the design: low < 0.3 ≤ medium < 0.85 ≤ high. */
export const BAND_MEDIUM = 0.3;
export const BAND_HIGH = 0.85;

export type Band = "low" | "medium" | "high";

export function bandOf(score: number): Band {
  if (score >= BAND_HIGH) return "high";
  if (score >= BAND_MEDIUM) return "medium";
  return "low";
}
