/** Human output: aligned key/value blocks and tables. JSON output is `json()`, nothing else. */

export type Cell = string | number | boolean | null | undefined;

const text = (v: Cell): string => (v === null || v === undefined ? "-" : String(v));

/** `key   value` lines, keys padded to one column; rows whose value is undefined are left out. */
export function kv(rows: readonly (readonly [string, Cell])[]): string {
  const shown = rows.filter(([, v]) => v !== undefined);
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${k.padEnd(width)}  ${text(v)}`).join("\n") + "\n";
}

export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = [headers.map(String), ...rows.map((r) => r.map(text))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n") + "\n";
}

/** The one JSON document a `--json` command prints on stdout. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** Indents every non-empty line. */
export function indent(block: string, by = "  "): string {
  return block.replace(/^(?=.)/gm, by);
}
