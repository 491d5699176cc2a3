import type { AmountSeries } from "./state.ts";

/**
 * Slow drift of a numeric series (`amount_drift`, `volume_drift`) as a one-sided CUSUM of ranks
 * against the series' frozen reference (its first values, learn.ts): each value's mid-rank u in
 * the reference, standardised z = (u − ½)·√12 (mean 0, variance 1 whatever the amounts' shape,
 * since ranks are uniform when nothing changed), S = max(0, S + z − K). A median-shift test needs
 * the whole recent sample to move by several spreads; the CUSUM adds up small persistent shifts
 * (a payer creeping up 2 %/hour is above its reference more often than not long before its median
 * is far away).
 *
 * Evidence: for increments with mean −K and variance σ², P(S ever reaches h in an excursion) ≈
 * exp(−2K/σ² · (h + 1.166σ)) (Siegmund), judged family-wise over the n values the series has had,
 * x = 2K/σ²·(S + 1.166σ) − ln(n + 1), like amount_over_max. Amounts cluster (a busy day, a
 * month-end of big tickets: ranks are not independent), so σ² is the series' own dispersion: the
 * decayed mean of (block sum of z)² / BLOCK over closed blocks of BLOCK values, floored at 1.
 */
export interface DriftState {
  /** CUSUM statistic, the current block's sum of z and count, and the dispersion σ². */
  s: number;
  b: number;
  k: number;
  phi: number;
}

/** Reference shift the CUSUM is tuned to (in z units): K = ¼ detects a drift of ~½ spread. */
const K = 0.25;
/** Reference values before a series' drift is judged (learn.ts): fewer make the ranks too coarse. */
export const DRIFT_REF_MIN = 32;
const BLOCK = 16;
/** Weight of each closed block in the dispersion (about 50 blocks, 800 values, of memory). */
const PHI_RATE = 0.02;

function rankZ(ref: readonly number[], x: number): number {
  let below = 0;
  let tie = 0;
  for (const v of ref) {
    if (v < x) below++;
    else if (v === x) tie++;
  }
  return ((below + tie / 2) / ref.length - 0.5) * Math.sqrt(12);
}

/**
 * The evidence (nats) the CUSUM is held at: far past the curve's saturation (center 5.25, width
 * 0.7), so no score changes, but a level the series comes back from in tens of values once it is
 * back at its reference. Unbounded, a surge (a catastrophe week of claims, a payroll batch, a
 * month-end of big reports) left a CUSUM of 1,000+ that ordinary values then took thousands of
 * values to work off at K each: every later value of the agent read as drift at the top of
 * amount_drift's curve for weeks (world D: 4 clean agents auto-revoked, bench/README.md).
 */
const DRIFT_EVIDENCE_CAP = 10;

/** The CUSUM level whose evidence over n values is DRIFT_EVIDENCE_CAP (driftEvidence inverted). */
function cusumCap(phi: number, n: number): number {
  return ((DRIFT_EVIDENCE_CAP + Math.log(n + 1)) * phi) / (2 * K) - 1.166 * Math.sqrt(phi);
}

/** The CUSUM after this value of a series of n values (not stored: scoring looks, learning keeps). */
export function driftAfter(d: DriftState | undefined, ref: readonly number[], x: number, n: number): number {
  return Math.min(cusumCap(Math.max(1, d?.phi ?? 1), n), Math.max(0, (d?.s ?? 0) + rankZ(ref, x) - K));
}

/**
 * The values are above the reference now, at the rate the CUSUM is tuned to find: the mean of
 * their standardised ranks exceeds K. The CUSUM alone remembers: it reads medium for a hundred
 * values or more after a surge has ended, so "it reads medium" is not "the level has moved".
 */
export function aboveNow(ref: readonly number[], recent: readonly number[]): boolean {
  if (recent.length === 0) return false;
  let sum = 0;
  for (const x of recent) sum += rankZ(ref, x);
  return sum / recent.length > K;
}

/** Family-wise evidence (nats) of a CUSUM level over a series of n values. */
export function driftEvidence(d: DriftState | undefined, s: number, n: number): number {
  const phi = Math.max(1, d?.phi ?? 1);
  return ((2 * K) / phi) * (s + 1.166 * Math.sqrt(phi)) - Math.log(n + 1);
}

/** Learns the value into the CUSUM and the dispersion of its blocks (before the value joins the reference); n: the series' values before it. */
export function learnDrift(d: DriftState | undefined, ref: readonly number[], x: number, n: number): DriftState {
  const z = rankZ(ref, x);
  const next = { s: driftAfter(d, ref, x, n), b: (d?.b ?? 0) + z, k: (d?.k ?? 0) + 1, phi: d?.phi ?? 1 };
  if (next.k >= BLOCK) {
    next.phi += PHI_RATE * ((next.b * next.b) / BLOCK - next.phi);
    next.b = 0;
    next.k = 0;
  }
  return next;
}

/**
 * How long a drift has stood: when it first stood (`f`: the series' count then, `ft`: the time)
 * and when it last did (`ln`, `lt`). Nothing opens a review below high and drift is never high on
 * its own, so a drift that lasts is accepted on its own instead: one that has stood for a week and
 * at least `minCount` values is the agent's new normal (the caller re-bases its reference, as a
 * review would). Without it a lasting, legitimate change (payouts that grew, a feed whose weekday
 * mix changed) kept the agent medium for good, and a gateway that verifies with `max_band=low`
 * refused it for good (blind world D: a clean analyst medium on 65 % of its events for 34 days).
 * A week, because it is the longest rhythm an agent's work has.
 *
 * A drift stops standing only after a gap (`gap`): a weekly rhythm's weekend takes a share back
 * under its line (heartbeats only), and restarting the week then kept a feed whose weekday mix had
 * changed medium on every weekday for weeks (blind world E); an amount series' recent median dips
 * under its line now and then. A drift that stands only now and then must not keep the clock
 * running either, or a surge is accepted as the new level within a day of its start.
 */
export interface DriftAge {
  f?: number;
  ft?: number;
  ln?: number;
  lt?: number;
  /** Distinct days (UTC) it stood on since `ft` (absent in states from before it: counted from the next day on). */
  d?: number;
}

const DAY = 86_400_000;
export const DRIFT_AGE_MS = 7 * DAY;
/**
 * Days (UTC) the drift must have stood on, within its week: a week counted across silence was
 * no week of medium at all (an agent medium for three days, then quiet for six, had its drift
 * accepted on its first value back). Five: a working week; a weekly batch takes five batches.
 */
const DRIFT_AGE_DAYS = 5;

/** How long a drift may stop standing and still be the same drift: a time, or a number of the series' values. */
export type DriftGap = { ms: number } | { values: number };

/**
 * One value of the series into its age (in place): `above`, whether the drift stands after it;
 * `n`, the series' count; `t`, the series' clock (never an event's time stamped back: the caller
 * passes the latest time seen, so back-dated values cannot make a drift older than it is). True
 * when the drift has stood long enough to be accepted.
 */
export function ageDrift(a: DriftAge, above: boolean, n: number, t: number, minCount: number, gap: DriftGap): boolean {
  if (!above) {
    if (a.ft === undefined) return false;
    const gone = "ms" in gap ? t - (a.lt ?? a.ft) > gap.ms : n - (a.ln ?? a.f ?? n) > gap.values;
    if (gone) clearAge(a);
    return false;
  }
  if (a.f === undefined || a.ft === undefined) {
    a.f = n;
    a.ft = t;
    a.d = 1;
  } else if (Math.floor(t / DAY) > Math.floor((a.lt ?? a.ft) / DAY)) a.d = (a.d ?? 1) + 1;
  a.ln = n;
  a.lt = Math.max(a.lt ?? t, t);
  return n - a.f >= minCount && t - a.ft >= DRIFT_AGE_MS && (a.d ?? 0) >= DRIFT_AGE_DAYS;
}

/** The drift no longer stands (it went away, or it was accepted): its age starts again. */
export function clearAge(a: DriftAge): void {
  a.f = a.ft = a.ln = a.lt = a.d = undefined;
}

/** Mean of (block sum of z)² / BLOCK over the whole blocks of `xs` (in order) against `ref`; undefined under one block. */
function blockDispersion(ref: readonly number[], xs: readonly number[]): number | undefined {
  const blocks = Math.floor(xs.length / BLOCK);
  if (blocks === 0) return undefined;
  let sum = 0;
  for (let i = 0; i < blocks; i++) {
    let b = 0;
    for (let j = i * BLOCK; j < (i + 1) * BLOCK; j++) b += rankZ(ref, xs[j]!);
    sum += (b * b) / BLOCK;
  }
  return sum / blocks;
}

/**
 * The series' drift reference becomes its last `keep` recent values but the last `after` (a review
 * accepted the values up to its alert; ageing accepts them all); past `keep` the reference fills up
 * from the next values as a new series' does (learn.ts). Its CUSUM and age start again, and the
 * values after are judged against the new reference as if they arrived after it. Nothing
 * accepted is left in the recent values: the reference and the CUSUM stay as they are.
 */
export function rebaseDrift(series: AmountSeries, after: number, keep: number): void {
  const accepted = series.recent.slice(0, series.recent.length - after);
  if (accepted.length === 0) return;
  // A reference needs DRIFT_REF_MIN values before anything is judged on it. Fewer accepted (a
  // review closed more than 96 values after its alert: hours, for a busy series) are topped up with
  // the first values after the alert, which the agent sent before the review and which were judged
  // against the old reference. Until 2026-12-07 the next values the agent sent after the review
  // filled it unjudged, and every later one joined it (learn.ts fills a short reference): a
  // doubling sent right after a clear read no drift at all (0 of ~700 values), while the same
  // review with a recent alert read it on ~400 (origin/test/scoring-drift-review.test.ts).
  const unreviewed = series.recent.slice(series.recent.length - after);
  const topUp = Math.max(0, Math.min(DRIFT_REF_MIN - accepted.length, unreviewed.length));
  series.ref = [...accepted.slice(-keep), ...unreviewed.slice(0, topUp)];
  // The CUSUM starts again from the new reference, and so does its dispersion where the drift had
  // raised it: σ² is an uncentred mean of block sums of z, so a drift of mean z μ adds 16μ² to it
  // (~8-fold after a week at ×3). Kept until 2026-12-07, it muted the next drift as much: a
  // doubling right after an accepted ×3 first read medium 562 values (nine days) on, a jump to ×30
  // 366 values on (origin/test/scoring-drift-age.test.ts). The accepted values' own block
  // dispersion in the new reference is centred (the agent's clustering is in it); a lower σ² from
  // before stays.
  if (series.drift)
    series.drift = { s: 0, b: 0, k: 0, phi: Math.max(1, Math.min(series.drift.phi, blockDispersion(series.ref, series.ref) ?? series.drift.phi)) };
  series.age = undefined;
  if (series.ref.length >= DRIFT_REF_MIN) {
    for (const x of unreviewed.slice(topUp))
      series.drift = { ...(series.drift ?? { b: 0, k: 0, phi: 1 }), s: driftAfter(series.drift, series.ref, x, series.seen) };
  }
}
