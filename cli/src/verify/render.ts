import { fmt } from "./fmt.ts";
import type { CheckResult, VerifyReport } from "./types.ts";

/** Failures listed per check before eliding: a broken root fails every entry, and 100k lines help nobody. */
const MAX_LISTED = 20;

const MARK: Record<CheckResult["status"], string> = { pass: "✓", fail: "✗", skipped: "–" };

/** The human report: one ✓/✗ line per check, its failures indented under it, then the verdict. */
export function renderReport(r: VerifyReport, file: string): string {
  const lines: string[] = [`Evidence bundle ${file}`];
  if (r.tenant) lines.push(`  tenant ${r.tenant.name} (${r.tenant.id}), agent ${r.agent_id ?? "?"}`);
  for (const c of r.checks) {
    lines.push(`${MARK[c.status]} ${c.title}: ${c.summary}`);
    for (const n of c.notes) lines.push(`    ${n}`);
    for (const f of c.failures.slice(0, MAX_LISTED)) lines.push(`    ${f.subject}: ${f.reasons.join("; ")}`);
    if (c.failures.length > MAX_LISTED) lines.push(`    … and ${fmt(c.failures.length - MAX_LISTED)} more (--json lists all)`);
  }
  lines.push(r.summary);
  return `${lines.join("\n")}\n`;
}
