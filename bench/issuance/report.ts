import { percentile } from "../common/stats.ts";
import { mean, perSecond, type SeriesResult } from "./stats.ts";

/** Kakunin must issue at least this many times as fast as the hand-written (sequential) openssl loop. */
export const TARGET_RATIO = 3;

export interface Baselines {
  /** `openssl req -x509 -newkey rsa:2048` one after another: the loop the target is stated against. */
  seq: SeriesResult;
  /** The same command 8 at a time: context for the c=8 rows, which also get both cores. */
  par: SeriesResult;
}

export interface Row {
  regime: string;
  series: SeriesResult;
  /** Kakunin rows only: compared with the openssl series of the same run. */
  kakunin?: boolean;
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "-");
const ratio = (a: SeriesResult, b: SeriesResult) => perSecond(a) / perSecond(b);

/**
 * One table for both regimes. The verdict is always against the sequential loop, so every row
 * answers the same question; the 8-parallel ratio is printed beside the c=8 rows because
 * comparing them only with a one-core loop would flatter them.
 */
export function formatTable(rows: readonly Row[], base: Baselines): string {
  const head = ["regime", "series", "n", "wall s", "certs/s", "p50 ms", "p99 ms", "mean ms", "x seq", "x 8-par", `>=${TARGET_RATIO}x seq`];
  const body = rows.map(({ regime, series: r, kakunin }) => {
    const seq = kakunin ? ratio(r, base.seq) : Number.NaN;
    return [
      regime,
      r.label + (r.truncated ? " (time bound hit)" : ""),
      String(r.latencies.length),
      (r.elapsedMs / 1000).toFixed(1),
      perSecond(r).toFixed(2),
      ms(percentile(r.latencies, 50)),
      ms(percentile(r.latencies, 99)),
      ms(mean(r.latencies)),
      kakunin ? seq.toFixed(2) : "",
      kakunin && r.concurrency > 1 ? ratio(r, base.par).toFixed(2) : "",
      kakunin ? (seq >= TARGET_RATIO ? "PASS" : "MISS") : "",
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
