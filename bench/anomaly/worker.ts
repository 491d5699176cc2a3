import { parentPort } from "node:worker_threads";
import type { AgentEvent, ScoringConfig } from "@kakunin/shared";
import { scoreAgent, type ScorerName } from "./inproc.ts";

// Scores whole agents on request; see scoreAgents in inproc.ts.
parentPort?.on("message", (job: { id: number; events: AgentEvent[]; scopes: string[]; scorer: ScorerName; cfg: ScoringConfig }) => {
  parentPort?.postMessage({ id: job.id, scores: scoreAgent(job.events, job.scopes, job.scorer, job.cfg) });
});
