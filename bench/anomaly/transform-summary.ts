import { reachedHigh } from "./compare.ts";
import type { Metrics } from "./metrics.ts";
import { fix, pct } from "./stats.ts";
import { DRIFT_TYPES } from "./types.ts";

/**
 * One line per world for `--transform` runs, easy to diff against `--transform none`: AUC,
 * non-drift episodes reaching high, FPR(high), clean agents flagged, then per family
 * `high/episodes@AUC`.
 */
export function printTransformSummary(transform: string, suite: string, tuned: string, m: Metrics): void {
  const live = (drift: boolean) =>
    m.types
      .filter((t) => DRIFT_TYPES.has(t.type) === drift)
      .flatMap((t) => t.episodes)
      .filter((e) => !e.unscored);
  const eps = live(false);
  const fam = m.types
    .filter((t) => t.episodes.length > 0)
    .map((t) => {
      const l = t.episodes.filter((e) => !e.unscored);
      return `${t.type}=${l.filter(reachedHigh).length}/${l.length}@${fix(t.auc)}`;
    });
  console.log(
    `SUMMARY\t${transform}\t${suite}\ttuned-${tuned}\tauc=${fix(m.auc)}\thigh=${eps.filter(reachedHigh).length}/${eps.length}\tfpr=${pct(m.fprHigh, 3)}\tclean=${m.revokedClean.length}\t${fam.join(" ")}`,
  );
}
