import type { Reason } from "@kakunin/shared";
import type { LabelledEvent, SimAgent } from "./types.ts";

/** One event's outcome from either mode. Risk is only known in-process (the edge returns event scores). */
export interface ScoredEvent {
  le: LabelledEvent;
  score: number;
  reasons: Reason[];
  risk?: number;
  riskReasons?: Reason[];
  /** This event moved the agent's risk into high (the auto-revocation trigger). */
  becameHigh?: boolean;
}

export interface AgentRun {
  agent: SimAgent;
  /** Aligned with agent.events; undefined where the edge never scored the event (e.g. after revocation). */
  scored: (ScoredEvent | undefined)[];
  /** Edge mode: the certificate's final status at the origin. */
  certStatus?: string;
  /** Edge mode: time of the first event the edge refused (the certificate was revoked by then). */
  refusedAt?: number;
  /** In-process: time spent inside scoreEvent for this agent. */
  scoringMs?: number;
}

export interface RunResult {
  suite: string;
  mode: "in-process" | "edge";
  runs: AgentRun[];
  events: number;
  scoringMs: number;
  generationMs: number;
}
