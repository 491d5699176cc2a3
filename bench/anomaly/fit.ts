import { DEFAULT_SCORING, resolveScoringConfig, type ScoringOverrides } from "@kakunin/shared";
import { reachedHigh } from "./compare.ts";
import { computeMetrics } from "./metrics.ts";
import { scoreAgents } from "./inproc.ts";
import { DRIFT_TYPES, type SimAgent } from "./types.ts";

/**
 * The calibration knob fitted per world: where the episode scan turns high (the centre of the
 * `episode` curve, in nats of family-wise window surprise -ln((windows) · p); the default 5.25 was
 * set by reading, not by fitting: high at about one history in a thousand). The grid is small on
 * purpose: the features are per-agent tail probabilities and need no per-world fitting; only the
 * line between "medium for a while" and "high" is a choice, and it is made on one world only.
 * (Until 2026-12-03 the knob was the `sustained` CUSUM's curve centre; the scan replaced it.)
 */
export const GRID: ScoringOverrides[] = [4.5, 5.25, 6, 7].map((center) => ({ episode: { curve: { ...DEFAULT_SCORING.episode.curve, center } } }));

export interface FitRow {
  overrides: ScoringOverrides;
  auc: number;
  high: number;
  fprHigh: number;
  revokedClean: number;
}

/**
 * Scores the world's agents under every grid point and picks, among those with FPR(high) ≤ 0.05 %
 * and no clean agent reaching high (half the goal, a margin for the other world), the one with
 * the most episodes high, then the highest AUC. Falls back to the lowest FPR when none qualifies.
 */
export async function fit(agents: SimAgent[], workers: number | undefined, log: (line: string) => void): Promise<{ best: FitRow; rows: FitRow[] }> {
  const rows: FitRow[] = [];
  for (const overrides of GRID) {
    const r = resolveScoringConfig(overrides, DEFAULT_SCORING);
    if (!r.ok) throw new Error(JSON.stringify(r.issues));
    const { runs } = await scoreAgents(agents, workers, "kakunin", r.value);
    const m = computeMetrics(runs);
    const eps = m.types.filter((t) => !DRIFT_TYPES.has(t.type)).flatMap((t) => t.episodes);
    const row = {
      overrides,
      auc: m.auc,
      high: eps.filter(reachedHigh).length / Math.max(1, eps.length),
      fprHigh: m.fprHigh,
      revokedClean: m.revokedClean.length,
    };
    rows.push(row);
    log(
      `  ${JSON.stringify(overrides)}  AUC ${row.auc.toFixed(3)}  high ${(row.high * 100).toFixed(0)}%  FPR(high) ${(row.fprHigh * 100).toFixed(3)}%  clean revoked ${row.revokedClean}`,
    );
  }
  const ok = rows.filter((r) => r.fprHigh <= 0.0005 && r.revokedClean === 0);
  const best =
    ok.length > 0
      ? ok.sort((x, y) => y.high - x.high || y.auc - x.auc)[0]!
      : [...rows].sort((x, y) => x.fprHigh - y.fprHigh || x.revokedClean - y.revokedClean)[0]!;
  return { best, rows };
}
