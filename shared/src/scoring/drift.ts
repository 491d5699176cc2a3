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
