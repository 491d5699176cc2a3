import type { Reason } from "@kakunin/shared";
import { detectionSummary, type Metrics } from "./metrics.ts";
import type { RunResult, ScoredEvent } from "./scored.ts";
import { fix, pct } from "./stats.ts";
import { DRIFT_TYPES } from "./types.ts";

const TARGET = { auc: 0.95, fprHigh: 0.001 } as const;
const n = (x: number) => x.toLocaleString("en-US");
const verdict = (ok: boolean) => (ok ? "PASS" : "MISS");
const secs = (s: number) => (!Number.isFinite(s) ? "–" : s < 120 ? `${s.toFixed(0)} s` : s < 7200 ? `${(s / 60).toFixed(0)} min` : `${(s / 3600).toFixed(1)} h`);

export function formatReasons(rs: readonly Reason[], max = 3): string {
  return rs.length === 0 ? "(none)" : rs.slice(0, max).map((r) => `${r.feature} ${r.contribution.toFixed(2)} [${r.detail.slice(0, 70)}]`).join("; ");
}

function eventLine(s: ScoredEvent): string {
  const e = s.le.event;
  const what = [e.type, e.action, e.resource?.slice(0, 48), e.amount !== undefined ? `${e.amount} ${e.currency ?? ""}` : undefined, e.outcome].filter(Boolean).join(" ");
  const label = s.le.episode ? `${s.le.episode.attack}#${s.le.episode.id.split("#")[1]}` : s.le.benign ? `benign:${s.le.benign}` : "normal";
  return `  ${s.score.toFixed(3)}  ${s.le.event.event_id.split(".")[0]!.padEnd(26)} ${e.timestamp.slice(0, 19)}  ${label.padEnd(22)} ${what}\n         ${formatReasons(s.reasons)}`;
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => "  " + r.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join("  ")).join("\n");
}

export function printSuite(res: RunResult, m: Metrics): { pass: boolean } {
  const agents = res.runs.length;
  const withEp = res.runs.filter((r) => r.agent.episodes.length > 0).length;
  const eps = res.runs.reduce((s, r) => s + r.agent.episodes.length, 0);
  const kinds = new Map<string, number>();
  for (const r of res.runs) kinds.set(r.agent.kind, (kinds.get(r.agent.kind) ?? 0) + 1);
  console.log(`\n=== suite ${res.suite} (${res.mode}): ${agents} agents (${withEp} with episodes, ${agents - withEp} clean), ${n(res.events)} events, ${n(m.anomalies)} anomalous in ${eps} episodes`);
  console.log(`    kinds: ${[...kinds].map(([k, c]) => `${k} ×${c}`).join(", ")}`);
  if (res.mode === "in-process") console.log(`    scorer: ${n(res.events)} events in ${(res.scoringMs / 1000).toFixed(1)} s CPU → ${n(Math.round(res.events / (res.scoringMs / 1000)))} events/s per core (generation ${(res.generationMs / 1000).toFixed(1)} s)`);
  if (m.unscored) console.log(`    ${n(m.unscored)} events were not scored (refused by the edge, e.g. after revocation) and are left out`);

  const pass = { auc: m.auc >= TARGET.auc, fpr: m.fprHigh <= TARGET.fprHigh, revoked: m.revokedClean.length === 0 };
  console.log("\n  headline");
  console.log(table([
    ["metric", "value", "target", ""],
    ["ROC AUC, non-drift anomalies vs normal events", fix(m.auc), "≥ 0.95", verdict(pass.auc)],
    ["FPR(high): normal events scoring ≥ 0.85", `${pct(m.fprHigh, 3)} (${n(Math.round(m.fprHigh * m.normals))}/${n(m.normals)})`, "≤ 0.1%", verdict(pass.fpr)],
    ["normal events in medium [0.3, 0.85)", pct(m.mediumShare), "", ""],
    ["normal events during an episode (set aside): high / all", `${n(m.during.high)} / ${n(m.during.n)}`, "", ""],
    [`clean agents ${m.riskKnown ? "whose risk reached high (auto-revoked)" : "whose certificate ended revoked"}`, String(m.revokedClean.length), "0", verdict(pass.revoked)],
    ["agents with episodes that went high before the first one", String(m.revokedEarly.length), "", ""],
    ["ROC AUC, mean over non-drift attack types (each type weighs the same)", fix(m.aucMacro), "", ""],
    ["ROC AUC including slow drift", fix(m.aucWithDrift), "", ""],
  ]));

  const rows = [["attack type", "events", "AUC", "episodes", "detected", "share", "med events", "med delay", m.riskKnown ? "risk→high" : "revoked", "med risk delay", m.riskKnown ? "already high" : "episodes"]];
  for (const t of m.types) {
    if (DRIFT_TYPES.has(t.type) && !DRIFT_TYPES.has(m.types[m.types.indexOf(t) - 1]?.type ?? t.type)) rows.push(["— slow drift (reported separately) —", "", "", "", "", "", "", "", "", "", ""]);
    const d = detectionSummary(t.episodes);
    rows.push([t.type, n(t.events), fix(t.auc), String(d.n), String(d.detected), pct(d.detected / Math.max(1, d.n), 0), fix(d.medEvents, 0), secs(d.medSeconds),
      `${d.riskDetected}/${d.n}`, secs(d.medRiskSeconds), m.riskKnown ? String(d.riskAlready) : `${d.unscored} unscored`]);
  }
  const drift = m.types.filter((t) => DRIFT_TYPES.has(t.type)).flatMap((t) => t.episodes);
  const dd = detectionSummary(drift);
  rows.push(["drift, both variants", n(drift.reduce((s, e) => s + e.events, 0)), fix(m.aucDrift), String(dd.n), String(dd.detected), pct(dd.detected / Math.max(1, dd.n), 0), fix(dd.medEvents, 0), secs(dd.medSeconds), `${dd.riskDetected}/${dd.n}`, secs(dd.medRiskSeconds), m.riskKnown ? String(dd.riskAlready) : `${dd.unscored} unscored`]);
  console.log("\n  per attack type (AUC: that type's anomalous events vs all normal events; detected: ≥ 1 event ≥ 0.85; delays from episode start;");
  console.log(m.riskKnown
    ? "  risk→high: the agent's risk crossed into high during the episode or within 1 h after; already high: it was high when the episode began)"
    : "  revoked: the edge began refusing the agent's events during the episode or within 1 h after, to batch precision)");
  console.log(table(rows));

  console.log("\n  benign surprises (NORMAL events carrying the tag)");
  console.log(table([["surprise", "events", "high", "medium"], ...m.benign.map((b) => [b.type, n(b.n), String(b.high), pct(b.medium / Math.max(1, b.n))])]));

  const revLine = (r: Metrics["revokedClean"][number]) =>
    `  ${r.agent.id} (${r.agent.profile})${r.ts ? ` at ${new Date(r.ts).toISOString().slice(0, 19)}` : ""}${r.risk !== undefined ? ` risk ${r.risk.toFixed(3)}` : ""}\n      ${formatReasons(r.reasons, 4)}`;
  console.log(`\n  clean agents that would be auto-revoked: ${m.revokedClean.length === 0 ? "none" : ""}`);
  for (const r of m.revokedClean) console.log(revLine(r));
  if (m.revokedEarly.length) {
    console.log("  agents with episodes that went high before their first episode:");
    for (const r of m.revokedEarly) console.log(revLine(r));
  }

  console.log("\n  top 10 highest-scoring NORMAL events");
  for (const s of m.topNormal) console.log(eventLine(s));
  console.log("\n  missed episodes (no event ≥ 0.85)");
  for (const t of m.types) for (const e of t.episodes.filter((x) => x.detectEvents === undefined && !x.unscored)) {
    console.log(`  ${t.type.padEnd(20)} ${e.episode.id.padEnd(30)} max ${fix(e.maxScore)}  ${e.episode.variant.slice(0, 70)}`);
  }
  console.log("\n  10 lowest-scoring anomalous events per type");
  for (const t of m.types) {
    if (t.lowest.length === 0) continue;
    console.log(`  -- ${t.type}`);
    for (const s of t.lowest) console.log(eventLine(s));
  }
  const tallyLine = (label: string, xs: [string, number][]) => console.log(`  ${label}: ${xs.length ? xs.slice(0, 6).map(([k, c]) => `${k} ×${c}`).join(", ") : "none"}`);
  console.log("\n  reasons (strongest reason per event)");
  tallyLine("false positives (normal ≥ 0.85)", m.fpReasons);
  tallyLine("normal events in medium", m.mediumReasons);
  tallyLine("missed episodes (their best event)", m.missReasons);
  tallyLine("anomalous events scoring low (< 0.3)", m.lowReasons);
  const ok = pass.auc && pass.fpr && pass.revoked;
  console.log(`\n  ${res.suite}: ${verdict(ok)} (AUC ${verdict(pass.auc)}, FPR(high) ${verdict(pass.fpr)}, clean agents revoked ${verdict(pass.revoked)})`);
  return { pass: ok };
}
