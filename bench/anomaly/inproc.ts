import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { DEFAULT_SCORING, newState, scoreEvent, toScoredInput, type AgentEvent, type Reason, type ScoringConfig } from "@kakunin/shared";
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
  const t0 = cpuMs();
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
  out.ms = cpuMs() - t0;
  return out;
}

/**
 * CPU time of this thread in ms (process.threadCpuUsage, Node ≥ 23.9): on a shared, loaded machine
 * wall time would bill other processes' work to the scorer. Falls back to wall time.
 */
function cpuMs(): number {
  const p = process as unknown as { threadCpuUsage?: () => { user: number; system: number } };
  if (typeof p.threadCpuUsage === "function") {
    const u = p.threadCpuUsage();
    return (u.user + u.system) / 1000;
  }
  return performance.now();
}

/** One agent, fresh state, events in time order, its declared scopes, the given config (default: DEFAULT_SCORING, fitted on world A). */
export function scoreAgent(events: readonly AgentEvent[], scopes: readonly string[], scorer: ScorerName = "kakunin", cfg: ScoringConfig = DEFAULT_SCORING): AgentScores {
  const inputs = events.map(toScoredInput);
  if (scorer === "reference") return scoreReference(inputs);
  const state = newState();
  const out: AgentScores = { score: [], reasons: [], risk: [], riskReasons: [], becameHigh: [], ms: 0 };
  const t0 = cpuMs();
  for (const input of inputs) {
    const r = scoreEvent(state, input, scopes, cfg);
    out.score.push(r.event.score);
    out.reasons.push(r.event.reasons);
    out.risk.push(r.risk.score);
    out.riskReasons.push(r.risk.reasons);
    out.becameHigh.push(r.risk.becameHigh);
  }
  out.ms = cpuMs() - t0;
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
  cfg: ScoringConfig;
}

/**
 * Agents are independent, so they are scored in parallel worker threads (the scorer itself is
 * single-threaded and deterministic; parallelism only shortens the wall time). `workers` = 1 runs
 * everything on the main thread.
 */
export async function scoreAgents(agents: SimAgent[], workers = Math.min(4, availableParallelism()), scorer: ScorerName = "kakunin", cfg: ScoringConfig = DEFAULT_SCORING): Promise<{ runs: AgentRun[] }> {
  const results = new Array<AgentScores | undefined>(agents.length);
  if (workers <= 1) {
    agents.forEach((a, i) => (results[i] = scoreAgent(a.events.map((e) => e.event), a.scopes, scorer, cfg)));
  } else {
    // Biggest agents first, each to whichever worker frees up next.
    const queue: Job[] = agents.map((a, id) => ({ id, events: a.events.map((e) => e.event), scopes: a.scopes, scorer, cfg })).sort((x, y) => y.events.length - x.events.length);
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
