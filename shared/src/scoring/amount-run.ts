/**
 * Several values of one series beyond everything the agent moved before them (`amount_over_max`,
 * `volume_over_max`; features.amountFeatures). The single-value tail judges each value against the
 * agent's largest values *including the run's own earlier values*: three expenses approved at 31×
 * the usual, each 2.7× the largest before them, read as one rare value (x ≈ 2) and then two values
 * that the first one had made ordinary (it is in the tail now, and widens it). Judged together they
 * are far rarer than any one of them.
 *
 * The statistic, over the series' last RUN_VALUES values (this one included, and one of them):
 * k values exceed M, the largest value before the window, the smallest of them by d (log space).
 * Under exchangeability the k largest of the n0 + m values all fall in the window with probability
 * C(m, k) / C(n0 + m, k), distribution-free; beyond M the tail is the single-value tail's Pareto
 * (exponential excess in log space, Hill mean excess β of the top values before the window), so k
 * excesses all at least d have probability exp(−k·d / β). The product is judged family-wise over
 * the agent's n values, x = −ln((n + 1) · P), on the same curve as the single value: high at about
 * one history in a thousand. No constant is fitted on scores; the window bounds the work (≤ 8 values
 * against ≤ 16 top values) and adds no state.
 */

/** Values of the series a run is counted over (this one included). */
export const RUN_VALUES = 8;

/** Fewest values before the window, and fewest top values left, for a tail to be estimated. */
const RUN_MIN_HISTORY = 8;
const RUN_MIN_TOP = 4;

export interface RecordRun {
  /** Window values beyond the largest before the window (≥ 2). */
  k: number;
  /** Values in the window. */
  m: number;
  /** The smallest of the k excesses over that largest value, as a ratio. */
  ratio: number;
  /** −ln((n + 1) · P), P the run's tail probability. */
  x: number;
}

/**
 * The run of record values ending at log-value `x` (not yet learned), or undefined when there is
 * none (fewer than two values of the window beyond the largest before it, or this value not one of
 * them: a run is judged on the event that extends it).
 */
export function recordRun(
  series: { recent: readonly number[]; seen: number; top?: readonly number[]; topFrom?: number; ref?: readonly number[] },
  x: number,
): RecordRun | undefined {
  const earlier = series.recent.slice(-(RUN_VALUES - 1));
  const m = earlier.length + 1;
  const covered = topCoverage(series);
  if (covered === undefined) return undefined;
  // Only the values the top values speak for: the rank part says the k largest of those n0 + m
  // fall in the window, which is as rare as it reads only if the largest before it is known.
  const n0 = covered - earlier.length;
  if (n0 < RUN_MIN_HISTORY || !series.top) return undefined;
  // The top values before the window: the top ever without the window's own values (it never holds
  // the current one, learned after scoring).
  const pending = [...earlier];
  const before: number[] = [];
  for (const v of series.top) {
    const i = pending.indexOf(v);
    if (i >= 0) pending.splice(i, 1);
    else before.push(v);
  }
  if (before.length < RUN_MIN_TOP) return undefined;
  const max = before[0]!;
  if (x <= max) return undefined;
  let k = 1;
  let d = x - max;
  for (const v of earlier)
    if (v > max) {
      k++;
      d = Math.min(d, v - max);
    }
  if (k < 2) return undefined;
  // Hill mean excess of the top values before the window, as the single-value tail estimates it.
  const floor = before[before.length - 1]!;
  let excess = 0;
  for (const v of before) excess += v - floor;
  const beta = Math.max(0.1, excess / (before.length - 1));
  // ln C(m, k) − ln C(n0 + m, k) = Σ ln((m − i) / (n0 + m − i)), i < k.
  let lnP = -(k * d) / beta;
  for (let i = 0; i < k; i++) lnP += Math.log((m - i) / (n0 + m - i));
  const n = Math.max(series.seen, series.recent.length);
  return { k, m, ratio: Math.exp(d), x: -lnP - Math.log(n + 1) };
}

/**
 * How many of the series' values its top values were taken from (the largest of exactly those),
 * or undefined when that is not known. A series from before `top` (release 9f2709c) began it late:
 * `topFrom` says when (learn.ts), and a top begun late by a build that did not record it is
 * recognised by what it lacks: fewer than 16 values while more were seen (every value since it
 * began is in it), or a value of the reference (some of the series' own values) above its smallest
 * and missing from it, which a top of every value would hold.
 */
function topCoverage(series: { seen: number; top?: readonly number[]; topFrom?: number; ref?: readonly number[] }): number | undefined {
  const top = series.top;
  if (!top) return undefined;
  if (series.topFrom !== undefined) return series.seen - series.topFrom;
  if (top.length < 16) return top.length;
  const floor = top[top.length - 1]!;
  const held = [...top];
  for (const v of series.ref ?? []) {
    if (v <= floor) continue;
    const i = held.indexOf(v);
    if (i < 0) return undefined;
    held.splice(i, 1);
  }
  return series.seen;
}
