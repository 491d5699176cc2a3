import { existsSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FaultRow } from "./support.ts";

/**
 * Vitest global setup of the e2e project: every fault drill (test/faults/*.test.ts) appends a row
 * to one file; after the run the table is printed: fault, acknowledged, stored, duplicates,
 * recovery time.
 */
export default function setup(): () => void {
  const file = join(tmpdir(), `kakunin-faults-${process.pid}.jsonl`);
  rmSync(file, { force: true });
  process.env.KAKUNIN_FAULTS_REPORT = file;
  return () => {
    if (!existsSync(file)) return;
    const rows = readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as FaultRow);
    rmSync(file, { force: true });
    if (rows.length === 0) return;
    const head = ["fault", "acknowledged", "stored", "duplicates", "recovery", "note"];
    const body = rows.sort((a, b) => a.fault.localeCompare(b.fault)).map((r) => [
      r.fault, String(r.acknowledged), String(r.stored), String(r.duplicates), `${(r.recoveryMs / 1000).toFixed(1)} s`, r.note ?? "",
    ]);
    const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
    const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
    console.log(["", "Fault matrix", line(head), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line), ""].join("\n"));
  };
}
