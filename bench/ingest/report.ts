import type { LoadResult } from "../common/load.ts";

export interface Row {
  label: string;
  target: string;
  batch: number;
  r: LoadResult;
  /** CPU seconds per wall second during the timed part (NaN when /proc or ss was unavailable). */
  cores: { edge: number; origin: number; client: number };
}

export const eventsPerS = (row: Row): number => (row.r.ok * row.batch) / (row.r.elapsedMs / 1000);
const num = (x: number, digits = 0): string => (Number.isFinite(x) ? x.toFixed(digits) : "–");
const ms = (x: number): string => num(x, x < 10 ? 2 : 1);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** One line per target; the ratio (Kakunin events/s over the same requests to the no-op) on Kakunin's line. */
export function resultTable(rows: readonly Row[]): string {
  return table(
    ["row", "target", "ok", "errors", "req/s", "events/s", "p50 ms", "p99 ms", "kakunin/noop", "edge cores", "origin cores", "client cores", "edge CPU ms/event"],
    rows.map((row) => {
      const noop = rows.find((o) => o.label === row.label && o !== row && o.target === "noop");
      const ratio = row.target === "noop" || !noop ? "" : `${(eventsPerS(row) / eventsPerS(noop)).toFixed(2)}×`;
      return [row.label, row.target, String(row.r.ok), String(row.r.errors), num(row.r.ok / (row.r.elapsedMs / 1000)), num(eventsPerS(row)), ms(row.r.p50), ms(row.r.p99), ratio,
        num(row.cores.edge, 2), num(row.cores.origin, 2), num(row.cores.client, 2), num((row.cores.edge * 1000) / eventsPerS(row), 3)];
    }),
  );
}
