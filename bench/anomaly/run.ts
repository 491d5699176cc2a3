import { parseArgs } from "node:util";
import { computeMetrics } from "./metrics.ts";
import { replaySuite } from "./edge.ts";
import { scoreAgents } from "./inproc.ts";
import { printSuite } from "./report.ts";
import { DAY } from "./rhythm.ts";
import type { RunResult } from "./scored.ts";
import { buildSuite, shiftSuite, type SuiteSpec } from "./suite.ts";
import { DEV, HOLDOUT } from "./suites.ts";

/**
 * Anomaly-detection benchmark. Default: in-process — generate the dev and holdout suites and feed
 * them through the scorer. With --edge/--origin/--admin-key: replay the same suites through the
 * running system and compute the same metrics from the scores the edge returns. Always exits 0 on
 * a completed measurement: PASS/MISS is information, not a gate.
 */
const { values } = parseArgs({
  options: {
    edge: { type: "string" },
    origin: { type: "string" },
    "admin-key": { type: "string" },
    suite: { type: "string", default: "both" },
    workers: { type: "string" },
    /** Only the first N agents of each suite (quick edge smoke runs). */
    limit: { type: "string" },
  },
});

const specs: SuiteSpec[] = values.suite === "dev" ? [DEV] : values.suite === "holdout" ? [HOLDOUT] : [DEV, HOLDOUT];
const edgeMode = values.edge !== undefined || values.origin !== undefined || values["admin-key"] !== undefined;
if (edgeMode && !(values.edge && values.origin && values["admin-key"])) {
  console.error("edge mode needs all of --edge URL --origin URL --admin-key KEY");
  process.exit(2);
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const built = specs.map((spec) => {
    const g0 = performance.now();
    const full = buildSuite(spec);
    const suite = values.limit ? { ...full, agents: full.agents.slice(0, Number(values.limit)) } : full;
    return { spec, suite, generationMs: performance.now() - g0, events: suite.agents.reduce((s, a) => s + a.events.length, 0) };
  });
  const results: RunResult[] = [];
  if (edgeMode) {
    for (const b of built) {
      // The edge refuses events older than 30 days: move the suite forward by whole weeks
      // (weekdays and local hours unchanged) so its last event lies within the past week.
      const weeks = Math.floor((Date.now() - 60_000 - b.spec.end) / (7 * DAY));
      const suite = shiftSuite(b.suite, weeks * 7 * DAY);
      console.log(`replaying suite ${b.spec.name} through edge ${values.edge} / origin ${values.origin} (shifted by ${weeks} weeks)`);
      const s0 = performance.now();
      const runs = await replaySuite({ edge: values.edge!, origin: values.origin!, adminKey: values["admin-key"]! }, b.spec.name, suite.agents);
      console.log(`  ${b.events} events in ${((performance.now() - s0) / 1000).toFixed(1)} s end to end`);
      results.push({ suite: b.spec.name, mode: "edge", runs, events: b.events, scoringMs: performance.now() - s0, generationMs: b.generationMs });
    }
  } else {
    // One pool for every suite's agents keeps all cores busy until the very end.
    const all = built.flatMap((b) => b.suite.agents);
    const { runs } = await scoreAgents(all, values.workers ? Number(values.workers) : undefined);
    for (const b of built) {
      const mine = runs.filter((r) => b.suite.agents.includes(r.agent));
      const scoringMs = mine.reduce((s, r) => s + (r.scoringMs ?? 0), 0);
      results.push({ suite: b.spec.name, mode: "in-process", runs: mine, events: b.events, scoringMs, generationMs: b.generationMs });
    }
  }
  const verdicts = results.map((res) => `${res.suite} ${printSuite(res, computeMetrics(res.runs)).pass ? "PASS" : "MISS"}`);
  console.log(`\n${verdicts.join(", ")} — whole run ${((performance.now() - t0) / 1000).toFixed(1)} s wall`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
