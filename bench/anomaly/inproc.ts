import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { newState, scoreEvent, toScoredInput, type AgentEvent, type Reason } from "@kakunin/shared";
import { ReferenceScorer } from "./reference.ts";
import type { AgentRun } from "./scored.ts";
import type { SimAgent } from "./types.ts";

export interface AgentScores {
  score: number[];
  reasons: Reason[][];
  risk: number[];
  riskReasons: Reason[][];
  becameHigh: boolean[];
  ms: number;
}

/** Which scorer: Kakunin's (`shared/src/scoring`) or the untuned reference baseline. */
export type ScorerName = "kakunin" | "reference";

/** The reference scorer has no agent risk of its own: a 15-minute decayed max of its event scores stands in. */
function scoreReference(inputs: readonly ReturnType<typeof toScoredInput>[]): AgentScores {
  const ref = new ReferenceScorer();
  const out: AgentScores = { score: [], reasons: [], risk: [], riskReasons: [], becameHigh: [], ms: 0 };
  const t0 = performance.now();
  let risk = 0;
  let t = 0;
  for (const input of inputs) {
    const score = ref.score(input);
    const decayed = risk * Math.exp(-Math.max(0, input.ts - t) / 900_000);
    risk = Math.max(score, decayed);
    t = Math.max(t, input.ts);
    out.score.push(score);
    out.reasons.push([]);
    out.risk.push(risk);
    out.riskReasons.push([]);
    out.becameHigh.push(decayed < 0.85 && risk >= 0.85);
  }
  out.ms = performance.now() - t0;
  return out;
}

/** One agent, fresh state, events in time order, its declared scopes, the default config. */
export function scoreAgent(events: readonly AgentEvent[], scopes: readonly string[], scorer: ScorerName = "kakunin"): AgentScores {
  const inputs = events.map(toScoredInput);
  if (scorer === "reference") return scoreReference(inputs);
  const state = newState();
  const out: AgentScores = { score: [], reasons: [], risk: [], riskReasons: [], becameHigh: [], ms: 0 };
  const t0 = performance.now();
  for (const input of inputs) {
    const r = scoreEvent(state, input, scopes);
    out.score.push(r.event.score);
    out.reasons.push(r.event.reasons);
    out.risk.push(r.risk.score);
    out.riskReasons.push(r.risk.reasons);
    out.becameHigh.push(r.risk.becameHigh);
  }
  out.ms = performance.now() - t0;
  return out;
}

// A worker's entry module loads before any --import hook runs in it, so a .ts entry fails: the
// worker boots from a one-line script that registers tsx first and then imports worker.ts.
const boot = () => `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))}).then((m) => { m.register(); return import(${JSON.stringify(new URL("./worker.ts", import.meta.url).href)}); });`;

interface Job {
  id: number;
  events: AgentEvent[];
  scopes: string[];
  scorer: ScorerName;
}

/**
 * Agents are independent, so they are scored in parallel worker threads (the scorer itself is
 * single-threaded and deterministic; parallelism only shortens the wall time). `workers` = 1 runs
 * everything on the main thread.
 */
export async function scoreAgents(agents: SimAgent[], workers = Math.min(4, availableParallelism()), scorer: ScorerName = "kakunin"): Promise<{ runs: AgentRun[] }> {
  const results = new Array<AgentScores | undefined>(agents.length);
  if (workers <= 1) {
    agents.forEach((a, i) => (results[i] = scoreAgent(a.events.map((e) => e.event), a.scopes, scorer)));
  } else {
    // Biggest agents first, each to whichever worker frees up next.
    const queue: Job[] = agents.map((a, id) => ({ id, events: a.events.map((e) => e.event), scopes: a.scopes, scorer })).sort((x, y) => y.events.length - x.events.length);
    await Promise.all(Array.from({ length: Math.min(workers, queue.length) }, () => new Promise<void>((resolve, reject) => {
      const w = new Worker(boot(), { eval: true });
      const next = () => {
        const job = queue.shift();
        if (job) w.postMessage(job);
        else void w.terminate().then(() => resolve());
      };
      w.on("message", (m: { id: number; scores: AgentScores }) => {
        results[m.id] = m.scores;
        next();
      });
      w.on("error", reject);
      next();
    })));
  }
  const runs = agents.map((agent, i): AgentRun => {
    const r = results[i]!;
    return { agent, scoringMs: r.ms, scored: agent.events.map((le, j) => ({ le, score: r.score[j]!, reasons: r.reasons[j]!, risk: r.risk[j]!, riskReasons: r.riskReasons[j]!, becameHigh: r.becameHigh[j]! })) };
  });
  return { runs };
}
