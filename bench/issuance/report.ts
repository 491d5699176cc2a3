import { percentile } from "../common/stats.ts";
import { perSecond, steadyPerSecond, type SeriesResult } from "./stats.ts";

/** Goal 8 of issue 16: sustained certify/s at least this share of `openssl genrsa` on every core. */
export const TARGET_RATIO = 0.9;
/** ... and certify p99 from a warm pool under this many ms. */
export const TARGET_P99_MS = 50;

/** One origin's results: a burst from a warm pool (latency) and a long run past the pool (rate). */
export interface OriginResult {
  name: string;
  burst: SeriesResult;
  sustained: SeriesResult;
  /** Pool level reported after the sustained run: near 0 means the rate was the refill rate. */
  readyAfter: number;
  /** Origin CPU per sustained certify (ms; from /proc): every thread, and the event-loop thread alone. */
  cpu?: { processMs: number; mainThreadMs: number };
  /** Event-loop CPU per warm-pool certify (ms): its latency on an idle core, less waits. */
  warmMainMs: number;
}

const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : "-");

function table(head: string[], body: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}

/** The baselines (keys/s) and, per origin, sustained certify/s as a ratio of them plus warm-pool latency. */
export function formatReport(baselines: SeriesResult[], genrsa: number, nodeKeygen: number, origins: OriginResult[]): string {
  const base = table(["baseline", "keys", "wall s", "keys/s"], baselines.map((b) => [b.label, String(b.latencies.length), f(b.elapsedMs / 1000), f(perSecond(b), 2)]));
  const rows = origins.map((o) => {
    const rate = steadyPerSecond(o.sustained);
    const p99 = percentile(o.burst.latencies, 99);
    return [
      o.name, f(rate, 2), f(rate / genrsa, 2), f(rate / nodeKeygen, 2), String(o.sustained.latencies.length), Number.isFinite(o.readyAfter) ? String(o.readyAfter) : "-",
      f(percentile(o.burst.latencies, 50)), f(p99), f(o.cpu?.processMs ?? Number.NaN, 0), f(o.cpu?.mainThreadMs ?? Number.NaN, 0),
      rate / genrsa >= TARGET_RATIO && p99 < TARGET_P99_MS ? "PASS" : "MISS",
    ];
  });
  const head = ["origin", "sustained certify/s", "x genrsa", "x node keygen", "n", "pool after", "warm p50 ms", "warm p99 ms", "CPU ms/cert", "main thread ms/cert", "goal"];
  return `${base}\n(genrsa baseline used for ratios: ${f(genrsa, 2)} keys/s = mean of the runs before and after the origins)\n\n${table(head, rows)}`;
}
