import { detectionSummary, type EpisodeResult, type Metrics } from "./metrics.ts";
import { fix, median, pct } from "./stats.ts";
import { DRIFT_TYPES } from "./types.ts";

/** An episode reached high: one of its events scored ≥ 0.85, or the agent's risk crossed into (or already was in) high. */
export const reachedHigh = (e: EpisodeResult) => e.detectEvents !== undefined || e.riskSeconds !== undefined || e.riskAlreadyHigh === true;

export interface Column {
  label: string;
  m: Metrics;
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => "  " + r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join("  ")).join("\n");
}

/**
 * One world, several scorers side by side: per attack family the event AUC, the share of
 * episodes reaching high and the median events to the first high event; then FPR(high) and
 * the clean agents whose risk reached high (auto-revoked). Families without episodes are left out.
 */
export function printComparison(world: string, tuned: string, cols: Column[]): void {
  console.log(`\n=== ${world} — ${tuned}`);
  const head = ["family", "episodes", ...cols.flatMap((c) => [`AUC ${c.label}`, `high ${c.label}`, `med ev ${c.label}`])];
  const rows = [head];
  const families = cols[0]!.m.types.filter((t) => t.episodes.length > 0).map((t) => t.type);
  const summary = (eps: EpisodeResult[]) => {
    const live = eps.filter((e) => !e.unscored);
    const d = detectionSummary(live);
    return { n: live.length, high: live.filter(reachedHigh).length, medEvents: d.medEvents };
  };
  for (const f of families) {
    const cells = cols.flatMap((c) => {
      const t = c.m.types.find((x) => x.type === f)!;
      const s = summary(t.episodes);
      return [fix(t.auc), `${s.high}/${s.n} ${pct(s.high / Math.max(1, s.n), 0)}`, fix(s.medEvents, 0)];
    });
    rows.push([f + (DRIFT_TYPES.has(f) ? " (drift)" : ""), String(cols[0]!.m.types.find((x) => x.type === f)!.episodes.length), ...cells]);
  }
  const all = (c: Column, drift: boolean) => c.m.types.filter((t) => DRIFT_TYPES.has(t.type) === drift).flatMap((t) => t.episodes);
  rows.push(["all non-drift", String(all(cols[0]!, false).length), ...cols.flatMap((c) => {
    const s = summary(all(c, false));
    return [fix(c.m.auc), `${s.high}/${s.n} ${pct(s.high / Math.max(1, s.n), 0)}`, fix(s.medEvents, 0)];
  })]);
  rows.push(["all incl. drift", String(all(cols[0]!, false).length + all(cols[0]!, true).length), ...cols.flatMap((c) => {
    const s = summary([...all(c, false), ...all(c, true)]);
    return [fix(c.m.aucWithDrift), `${s.high}/${s.n} ${pct(s.high / Math.max(1, s.n), 0)}`, fix(s.medEvents, 0)];
  })]);
  console.log(table(rows));
  console.log(table([
    ["", ...cols.map((c) => c.label)],
    ["FPR(high): normal events ≥ 0.85", ...cols.map((c) => `${pct(c.m.fprHigh, 3)} (${Math.round(c.m.fprHigh * c.m.normals)}/${c.m.normals})`)],
    ["non-drift episodes with an event ≥ 0.85 (per-event band only)", ...cols.map((c) => {
      const eps = all(c, false).filter((e) => !e.unscored);
      const n = eps.filter((e) => e.detectEvents !== undefined).length;
      return `${n}/${eps.length} ${pct(n / Math.max(1, eps.length), 0)}`;
    })],
    ["normal events in medium", ...cols.map((c) => pct(c.m.mediumShare))],
    ["clean agents whose risk reached high (auto-revoked)", ...cols.map((c) => String(c.m.revokedClean.length))],
    ["agents flagged before their first episode", ...cols.map((c) => String(c.m.revokedEarly.length))],
    ["median of per-family AUCs (non-drift)", ...cols.map((c) => fix(median(c.m.types.filter((t) => !DRIFT_TYPES.has(t.type) && t.events > 0).map((t) => t.auc))))],
  ]));
  const goals = cols[0]!;
  const eps = all(goals, false);
  const share = eps.filter(reachedHigh).length / Math.max(1, eps.filter((e) => !e.unscored).length);
  console.log(`  goals (${goals.label}): AUC ${fix(goals.m.auc)} ${goals.m.auc >= 0.95 ? "PASS" : "MISS"} (≥ 0.95), episodes high ${pct(share, 0)} ${share >= 0.9 ? "PASS" : "MISS"} (≥ 90%), FPR(high) ${pct(goals.m.fprHigh, 3)} ${goals.m.fprHigh <= 0.001 ? "PASS" : "MISS"} (≤ 0.1%), clean auto-revoked ${goals.m.revokedClean.length} ${goals.m.revokedClean.length === 0 ? "PASS" : "MISS"}`);
}
