import { mean, percentile, perSecond, type SeriesResult } from "./stats.ts";

/** Kakunin must issue at least this many times as fast as the hand-written openssl loop. */
export const TARGET_RATIO = 3;

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "-");

export function formatTable(rows: readonly SeriesResult[], opts: { latencyOnly?: ReadonlySet<SeriesResult> } = {}): string {
  const head = ["series", "n", "wall s", "certs/s", "p50 ms", "p99 ms", "mean ms"];
  const body = rows.map((r) => [
    r.label + (r.truncated ? " (time bound hit)" : ""),
    String(r.latencies.length),
    (r.elapsedMs / 1000).toFixed(1),
    // A series with pauses between requests has no meaningful throughput.
    opts.latencyOnly?.has(r) ? "-" : perSecond(r).toFixed(2),
    ms(percentile(r.latencies, 50)),
    ms(percentile(r.latencies, 99)),
    ms(mean(r.latencies)),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

export function formatRatio(concurrency: number, kakunin: SeriesResult, openssl: SeriesResult): string {
  const ratio = perSecond(kakunin) / perSecond(openssl);
  const verdict = ratio >= TARGET_RATIO ? "PASS" : "MISS";
  return `c=${concurrency}: kakunin ${perSecond(kakunin).toFixed(2)}/s vs openssl ${perSecond(openssl).toFixed(2)}/s = ` +
    `${ratio.toFixed(2)}x  (target >= ${TARGET_RATIO}x: ${verdict})`;
}
