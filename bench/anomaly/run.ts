import { parseArgs } from "node:util";
import { MAX_EVENT_AGE_MS } from "@kakunin/shared";
import { cliArgs } from "../common/args.ts";
import { printComparison, type Column } from "./compare.ts";
import { computeMetrics } from "./metrics.ts";
import { replaySuite } from "./edge.ts";
import { scoreAgents, type ScorerName } from "./inproc.ts";
import { printSuite } from "./report.ts";
import { DAY } from "./rhythm.ts";
import type { RunResult } from "./scored.ts";
import { buildSuite, shiftSuite, type SuiteSpec } from "./suite.ts";
import { DEV, HOLDOUT } from "./suites.ts";
import type { Suite } from "./types.ts";
import { buildWorldB, WORLD_B, worldBSpec } from "./world-b/world.ts";
import { buildWorldC, WORLD_C } from "./world-c/world.ts";
import { buildWorldD, WORLD_D } from "./world-d/world.ts";
import { buildWorldE, WORLD_E } from "./world-e/world.ts";
import { buildWorldF, WORLD_F } from "./world-f/world.ts";
import { buildWorldG, WORLD_G } from "./world-g/world.ts";
import { buildWorldH, WORLD_H } from "./world-h/world.ts";
import { buildWorldI, WORLD_I } from "./world-i/world.ts";
import { fit } from "./fit.ts";
import { transformSuite } from "./transforms.ts";
import { printTransformSummary } from "./transform-summary.ts";
import { FITTED_ON, fittedConfig, type World } from "./fitted.ts";

/**
 * Anomaly-detection benchmark. Default: in-process — generate the dev and holdout suites and feed
 * them through the scorer. With --edge/--origin/--admin-key: replay the same suites through the
 * running system and compute the same metrics from the scores the edge returns. Always exits 0 on
 * a completed measurement: PASS/MISS is information, not a gate.
 */
const { values } = parseArgs({
  args: cliArgs(),
  options: {
    edge: { type: "string" },
    origin: { type: "string" },
    "admin-key": { type: "string" },
    suite: { type: "string", default: "both" },
    /** a (world A: dev + holdout), b (world B), both (A and B), c (world C only: the blind third world), d (world D only: the blind fourth), e (world E only: the blind fifth), f (world F only: the blind sixth), g (world G only: the blind seventh), h (world H only: the blind eighth), i (world I only: the blind ninth) or all (A, B, C and D). */
    world: { type: "string", default: "both" },
    /** Full per-suite report of the Kakunin scorer (misses, top false positives, reasons). */
    detail: { type: "boolean", default: false },
    /** kakunin, reference or both (default). */
    scorer: { type: "string", default: "both" },
    workers: { type: "string" },
    /** Only the first N agents of each suite (quick edge smoke runs). */
    limit: { type: "string" },
    /** Which fitted configuration scores (in-process): a (fitted on A → reports B), b (fitted on B → reports A), or both. */
    direction: { type: "string", default: "both" },
    /** Refit the calibration knobs on one world (a = dev suite, b = world B) and print the overrides for fitted.ts. */
    fit: { type: "string" },
    /** World B with shorter histories (robustness: attacks after days, not weeks, of history): `10-14` days each, first episode after `--b-warm` days (default 5). */
    "b-days": { type: "string" },
    "b-warm": { type: "string" },
    /** World B drawn with another seed (the same generator, other agents and attacks): the shipped world is seed 2827. */
    "b-seed": { type: "string" },
    /** A metamorphic transformation of every world (transforms.ts: renamed volume keys, action styles, offsets…); `none` is the world as generated. */
    transform: { type: "string", default: "none" },
  },
});
const bSpec = worldBSpec({ seed: values["b-seed"] ? Number(values["b-seed"]) : undefined, days: values["b-days"], warm: values["b-warm"] });

const specs: SuiteSpec[] = ["b", "c", "d", "e", "f", "g", "h", "i"].includes(values.world!)
  ? []
  : values.suite === "dev"
    ? [DEV]
    : values.suite === "holdout"
      ? [HOLDOUT]
      : [DEV, HOLDOUT];
const withB =
  values.world !== "a" &&
  values.world !== "c" &&
  values.world !== "d" &&
  values.world !== "e" &&
  values.world !== "f" &&
  values.world !== "g" &&
  values.world !== "h" &&
  values.world !== "i";
const withC = values.world === "c" || values.world === "all";
const withD = values.world === "d" || values.world === "all";
// World E is scored on its own only: `all` keeps printing what it printed before E existed.
const withE = values.world === "e";
// World F likewise.
const withF = values.world === "f";
// World G likewise.
const withG = values.world === "g";
// World H likewise.
const withH = values.world === "h";
// World I likewise.
const withI = values.world === "i";
/** Which world each suite belongs to, and how it relates to tuning (the defaults were tuned on world A's dev suite only). */
const ROLE: Record<string, string> = {
  dev: "world A (bench/anomaly generator), dev suite",
  holdout: "world A, holdout suite (same generator, other seed and variants)",
  "world-b": "world B (bench/anomaly/world-b, written independently)",
  "world-c": "world C (blind: written after the scorer, never tuned on; bench/anomaly/world-c)",
  "world-d": "world D (blind: written after the scorer, never tuned on; bench/anomaly/world-d)",
  "world-e": "world E (blind: written after the scorer, never tuned on; bench/anomaly/world-e)",
  "world-f": "world F (blind: written after the scorer, never tuned on; bench/anomaly/world-f)",
  "world-g": "world G (blind: written after the scorer, never tuned on; bench/anomaly/world-g)",
  "world-h": "world H (blind: written after the scorer, never tuned on; bench/anomaly/world-h)",
  "world-i": "world I (blind: written after the scorer, never tuned on; bench/anomaly/world-i)",
};
const edgeMode = values.edge !== undefined || values.origin !== undefined || values["admin-key"] !== undefined;
if (edgeMode && !(values.edge && values.origin && values["admin-key"])) {
  console.error("edge mode needs all of --edge URL --origin URL --admin-key KEY");
  process.exit(2);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const build = (name: string, end: number, make: () => Suite) => {
    const g0 = performance.now();
    const full = transformSuite(make(), values.transform);
    const suite = values.limit ? { ...full, agents: full.agents.slice(0, Number(values.limit)) } : full;
    return { spec: { name, end }, suite, generationMs: performance.now() - g0, events: suite.agents.reduce((s, a) => s + a.events.length, 0) };
  };
  const built = [
    ...specs.map((spec) => build(spec.name, spec.end, () => buildSuite(spec))),
    ...(withB ? [build(WORLD_B.name, WORLD_B.end, () => buildWorldB(bSpec))] : []),
    ...(withC ? [build(WORLD_C.name, WORLD_C.end, () => buildWorldC(WORLD_C))] : []),
    ...(withD ? [build(WORLD_D.name, WORLD_D.end, () => buildWorldD(WORLD_D))] : []),
    ...(withE ? [build(WORLD_E.name, WORLD_E.end, () => buildWorldE(WORLD_E))] : []),
    ...(withF ? [build(WORLD_F.name, WORLD_F.end, () => buildWorldF(WORLD_F))] : []),
    ...(withG ? [build(WORLD_G.name, WORLD_G.end, () => buildWorldG(WORLD_G))] : []),
    ...(withH ? [build(WORLD_H.name, WORLD_H.end, () => buildWorldH(WORLD_H))] : []),
    ...(withI ? [build(WORLD_I.name, WORLD_I.end, () => buildWorldI(WORLD_I))] : []),
  ];
  const results: RunResult[] = [];
  if (edgeMode) {
    for (const b of built) {
      // The edge refuses events older than 30 days: move the suite forward by whole weeks
      // (weekdays and local hours unchanged) so its last event lies within the past week.
      const weeks = Math.floor((Date.now() - 60_000 - b.spec.end) / (7 * DAY));
      const shifted = shiftSuite(b.suite, weeks * 7 * DAY);
      // World B's agents have up to 35 days: what is still older than the window (less a margin for
      // the replay's own duration) is left out, or the edge refuses the agent's first batch whole
      // (422) and the agent was counted as revoked before its first event.
      const floor = Date.now() - MAX_EVENT_AGE_MS + 6 * 3_600_000;
      const suite = { ...shifted, agents: shifted.agents.map((a) => ({ ...a, events: a.events.filter((le) => le.ts >= floor) })) };
      console.log(`replaying suite ${b.spec.name} through edge ${values.edge} / origin ${values.origin} (shifted by ${weeks} weeks)`);
      const s0 = performance.now();
      const runs = await replaySuite({ edge: values.edge!, origin: values.origin!, adminKey: values["admin-key"]! }, b.spec.name, suite.agents);
      console.log(`  ${b.events} events in ${((performance.now() - s0) / 1000).toFixed(1)} s end to end`);
      results.push({ suite: b.spec.name, mode: "edge", runs, events: b.events, scoringMs: performance.now() - s0, generationMs: b.generationMs });
    }
  } else if (values.fit === "a" || values.fit === "b") {
    const world = values.fit;
    const agents = built.filter((b) => (world === "a" ? b.spec.name === DEV.name : b.spec.name === WORLD_B.name)).flatMap((b) => b.suite.agents);
    console.log(`fitting the calibration knobs on world ${world.toUpperCase()} only (${agents.length} agents)`);
    const { best } = await fit(agents, values.workers ? Number(values.workers) : undefined, (l) => console.log(l));
    console.log(`chosen for FITTED_OVERRIDES.${world}: ${JSON.stringify(best.overrides)}`);
    return;
  } else {
    // Each world is scored with the configuration fitted on the OTHER world (the honest,
    // cross-generator direction), and by the untuned reference scorer beside it. Worlds C, D, E and F were
    // fitted on by neither, so they are reported under both configurations.
    const workers = values.workers ? Number(values.workers) : undefined;
    const worldOf = (suite: string): World | "c" | "d" | "e" | "f" | "g" | "h" | "i" =>
      suite === WORLD_B.name
        ? "b"
        : suite === WORLD_C.name
          ? "c"
          : suite === WORLD_D.name
            ? "d"
            : suite === WORLD_E.name
              ? "e"
              : suite === WORLD_F.name
                ? "f"
                : suite === WORLD_G.name
                  ? "g"
                  : suite === WORLD_H.name
                    ? "h"
                    : suite === WORLD_I.name
                      ? "i"
                      : "a";
    const directions = (["a", "b"] as const).filter((w) => values.direction === "both" || values.direction === w);
    for (const tuned of directions) {
      const report = built.filter((b) => worldOf(b.spec.name) !== tuned);
      if (report.length === 0) continue;
      const all = report.flatMap((b) => b.suite.agents);
      const byScorer = new Map<ScorerName, RunResult[]>();
      const scorers = (["kakunin", "reference"] as const).filter((sc) => values.scorer === "both" || values.scorer === sc);
      for (const scorer of scorers) {
        const { runs } = await scoreAgents(all, workers, scorer, fittedConfig(tuned));
        byScorer.set(
          scorer,
          report.map((b) => {
            const mine = runs.filter((r) => b.suite.agents.includes(r.agent));
            const scoringMs = mine.reduce((sum, r) => sum + (r.scoringMs ?? 0), 0);
            return { suite: b.spec.name, mode: "in-process", runs: mine, events: b.events, scoringMs, generationMs: b.generationMs };
          }),
        );
      }
      results.push(...(byScorer.get("kakunin") ?? []));
      console.log(
        `\n##### direction: tuned on world ${tuned.toUpperCase()} (${FITTED_ON[tuned]}) → reported on world ${[...new Set(report.map((b) => worldOf(b.spec.name).toUpperCase()))].join(" + ")}`,
      );
      for (const [i, b] of report.entries()) {
        const cols: Column[] = scorers.map((sc) => ({ label: sc, m: computeMetrics(byScorer.get(sc)![i]!.runs) }));
        const k = byScorer.get(scorers[0]!)![i]!;
        const us = (k.scoringMs * 1000) / b.events;
        console.log(
          `\n${b.spec.name}: ${b.suite.agents.length} agents, ${b.events.toLocaleString("en-US")} events (generated in ${(b.generationMs / 1000).toFixed(1)} s; ${scorers[0]} scorer ${us.toFixed(0)} µs/event CPU = ${Math.round(1e6 / us).toLocaleString("en-US")} events/s per core)`,
        );
        printComparison(b.spec.name, `scored with the configuration fitted on world ${tuned.toUpperCase()}; ${ROLE[b.spec.name] ?? ""}`, cols);
        printTransformSummary(values.transform, b.spec.name, tuned, cols[0]!.m);
      }
    }
    if (!values.detail) return;
  }
  const verdicts = results.map((res) => `${res.suite} ${printSuite(res, computeMetrics(res.runs)).pass ? "PASS" : "MISS"}`);
  console.log(`\n${verdicts.join(", ")} — whole run ${((performance.now() - t0) / 1000).toFixed(1)} s wall`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
