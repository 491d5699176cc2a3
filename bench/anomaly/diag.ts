import { parseArgs } from "node:util";
import { BAND_HIGH } from "@kakunin/shared";
import { scoreAgents } from "./inproc.ts";
import { buildSuite } from "./suite.ts";
import { DEV, HOLDOUT } from "./suites.ts";
import { buildWorldB, WORLD_B } from "./world-b/world.ts";
import { buildWorldC, WORLD_C } from "./world-c/world.ts";
import { buildWorldD, WORLD_D } from "./world-d/world.ts";
import { buildWorldE, WORLD_E } from "./world-e/world.ts";
import { buildWorldF, WORLD_F } from "./world-f/world.ts";
import { buildWorldG, WORLD_G } from "./world-g/world.ts";
import { buildWorldH, WORLD_H } from "./world-h/world.ts";
import { buildWorldI, WORLD_I } from "./world-i/world.ts";
import { fittedConfig } from "./fitted.ts";
import { computeMetrics, OVERLAP_MS } from "./metrics.ts";
import { reachedHigh } from "./compare.ts";
import { DRIFT_TYPES } from "./types.ts";

// Diagnostic dump (not part of the benchmark): missed episodes and false highs with their reasons.
const { values } = parseArgs({ options: { world: { type: "string", default: "b" }, workers: { type: "string", default: "2" }, config: { type: "string" } } });
const w = values.world!;
const suite =
  w === "b"
    ? buildWorldB(WORLD_B)
    : w === "c"
      ? buildWorldC(WORLD_C)
      : w === "d"
        ? buildWorldD(WORLD_D)
        : w === "e"
          ? buildWorldE(WORLD_E)
          : w === "f"
            ? buildWorldF(WORLD_F)
            : w === "g"
              ? buildWorldG(WORLD_G)
              : w === "h"
                ? buildWorldH(WORLD_H)
                : w === "i"
                  ? buildWorldI(WORLD_I)
                  : buildSuite(w === "dev" ? DEV : HOLDOUT);
// The configuration fitted on the other world unless `--config a|b` asks for one (a: world A's own, for tuning on A); worlds C, D, E and F, blind, are read with A's.
const cfg = fittedConfig(
  values.config === "a" || values.config === "b"
    ? values.config
    : w === "b" || w === "c" || w === "d" || w === "e" || w === "f" || w === "g" || w === "h" || w === "i"
      ? "a"
      : "b",
);
const { runs } = await scoreAgents(suite.agents, Number(values.workers), "kakunin", cfg);
const m = computeMetrics(runs);
const top = (rs: { feature: string; contribution: number }[]) =>
  rs
    .slice(0, 3)
    .map((r) => `${r.feature}:${r.contribution.toFixed(2)}`)
    .join(",");
console.log(`AUC ${m.auc.toFixed(3)} FPR ${(m.fprHigh * 100).toFixed(3)}% clean ${m.revokedClean.map((r) => r.agent.id + " " + top(r.reasons)).join("; ")}`);
for (const t of m.types)
  for (const e of t.episodes) {
    if (DRIFT_TYPES.has(t.type) && !process.env.DRIFT) continue;
    const r = runs.find((x) => x.agent.id === e.episode.agentId)!;
    const evs = r.scored.filter((s) => s?.le.episode?.id === e.episode.id);
    const feats = new Map<string, number>();
    for (const s of evs) for (const x of s!.reasons) if (x.contribution >= 0.1) feats.set(x.feature, Math.max(feats.get(x.feature) ?? 0, x.contribution));
    const maxRisk = Math.max(...r.scored.filter((s) => s && s.le.ts >= e.episode.start && s.le.ts <= e.episode.end + 3_600_000).map((s) => s!.risk ?? 0));
    const n3 = evs.filter((s) => s!.score >= 0.3).length,
      n5 = evs.filter((s) => s!.score >= 0.5).length;
    console.log(
      `${reachedHigh(e) ? "HIGH" : "miss"} ${t.type.padEnd(19)} ${e.episode.agentId.padEnd(22)} n=${evs.length} ≥.3:${n3} ≥.5:${n5} max ${e.maxScore.toFixed(2)} risk ${maxRisk.toFixed(2)} dur ${((e.episode.end - e.episode.start) / 60000).toFixed(0)}min ${e.episode.variant.slice(0, 50)} | ${[
        ...feats,
      ]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([f, c]) => `${f}:${c.toFixed(2)}`)
        .join(",")}`,
    );
  }
const fp = new Map<string, { n: number; reasons: Map<string, number>; benign: Map<string, number> }>();
for (const r of runs) {
  const windows = r.agent.episodes.filter((e) => !DRIFT_TYPES.has(e.attack)).map((e) => [e.start, e.end + OVERLAP_MS] as const);
  for (const s of r.scored) {
    if (!s || s.le.episode || s.score < BAND_HIGH || windows.some(([a, b]) => s.le.ts >= a && s.le.ts <= b)) continue;
    const x = fp.get(r.agent.id) ?? { n: 0, reasons: new Map(), benign: new Map() };
    x.n++;
    const f = s.reasons[0]?.feature ?? "-";
    x.reasons.set(f, (x.reasons.get(f) ?? 0) + 1);
    const b = s.le.benign ?? "normal";
    x.benign.set(b, (x.benign.get(b) ?? 0) + 1);
    fp.set(r.agent.id, x);
  }
}
for (const [a, x] of [...fp].sort((p, q) => q[1].n - p[1].n))
  console.log(`FP ${a.padEnd(24)} ${x.n} ${[...x.reasons].map(([k, c]) => `${k}×${c}`).join(",")} | ${[...x.benign].map(([k, c]) => `${k}×${c}`).join(",")}`);
