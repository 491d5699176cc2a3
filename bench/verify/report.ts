import type { LoadResult } from "../common/load.ts";
import type { Measured } from "./measure.ts";

const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(x < 10 ? 2 : 1) : "–");

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

export function loadTable(results: readonly LoadResult[]): string {
  return table(
    ["target", "conc", "ok", "req/s", "p50 ms", "p99 ms", "errors"],
    results.map((r) => [r.label, String(r.concurrency), String(r.ok), r.rps.toFixed(0), ms(r.p50), ms(r.p99), String(r.errors)]),
  );
}

export function ratio(a: number, b: number): string {
  return b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : "–";
}

export function latencyTable(rows: { label: string; n: number; p50: number; p99: number; max: number }[]): string {
  return table(["series", "n", "p50 ms", "p99 ms", "max ms"], rows.map((r) => [r.label, String(r.n), ms(r.p50), ms(r.p99), ms(r.max)]));
}

/** CPU ms per request of each process, one row per target, so the edge's cost can be split. */
export function cpuTable(results: readonly Measured[]): string {
  const names = [...new Set(results.flatMap((r) => [...r.cpuMsPerReq.keys()]))];
  return table(["target", ...names.map((n) => n.replace(/ \[\d+\]$/, ""))], results.map((r) => [r.restarted ? `${r.label} *` : r.label, ...names.map((n) => ms(r.cpuMsPerReq.get(n) ?? Number.NaN))]));
}
