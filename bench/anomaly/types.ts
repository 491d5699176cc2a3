import type { AgentEvent } from "@kakunin/shared";
import type { SimEvent } from "./sim-event.ts";

export type EventType = AgentEvent["type"];
export type Outcome = AgentEvent["outcome"];

export const ATTACK_TYPES = [
  "rate_burst", "amount_spike", "tool_discovery", "out_of_scope", "exfiltration",
  "error_storm", "odd_hours", "impossible_sequence", "dormant_tool", "drift_amount", "drift_mix",
] as const;
export type AttackType = (typeof ATTACK_TYPES)[number];

/** Slow drift is reported on its own: it is the hardest case and would blur the other numbers. */
export const DRIFT_TYPES: ReadonlySet<AttackType> = new Set(["drift_amount", "drift_mix"]);

export const BENIGN_TYPES = ["busy_day", "new_tool", "new_resource", "deploy_latency", "holiday_lull", "outage_catchup", "big_ticket", "shift_change"] as const;
export type BenignType = (typeof BENIGN_TYPES)[number];

/**
 * What world A's simulator produces before ids and RFC 3339 timestamps are assigned: the harness's
 * simulated event (sim-event.ts), with its session id in place of free attributes, and its labels.
 */
export interface Draft extends Omit<SimEvent, "attributes"> {
  session?: string;
  /** Anomaly episode id; absent means the event is NORMAL. */
  episode?: string;
  /** Benign surprise in force when the event happened (still NORMAL). */
  benign?: BenignType;
}

export interface Episode {
  id: string;
  agentId: string;
  attack: AttackType;
  /** Parameterisation, e.g. "fast 240 resources", shown in the miss listings. */
  variant: string;
  start: number;
  end: number;
}

export interface BenignWindow {
  type: BenignType;
  start: number;
  end: number;
  detail: string;
}

export interface LabelledEvent {
  event: AgentEvent;
  ts: number;
  episode?: Episode;
  benign?: BenignType;
}

export interface SimAgent {
  id: string;
  kind: string;
  /** Short description of this instance's parameter draw. */
  profile: string;
  scopes: string[];
  events: LabelledEvent[];
  episodes: Episode[];
  benign: BenignWindow[];
}

export interface Suite {
  name: string;
  seed: number;
  agents: SimAgent[];
}
