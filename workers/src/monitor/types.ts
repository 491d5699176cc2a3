import type { Band, Reason, Sensitivity, TenantScoring } from "@kakunin/shared";

/** Who the events belong to, established by the Worker from the verified ingest token. */
export interface AgentContext {
  agentId: string;
  tenantId: string;
  /** The certificate the events are posted under (a renewed token's successor, ingest/authenticate.ts). */
  serial: string;
  /** The serial the ingest token was minted for, set only when a renewal moved it on to `serial` (v1_events.ts). */
  tokenSerial?: string;
  scopes: string[];
  /** The agent's sensitivity and its tenant's scoring overrides, as last published to this edge. */
  sensitivity?: Sensitivity;
  scoring?: TenantScoring;
}

export interface EventResult {
  event_id: string;
  score: number;
  band: Band;
  reasons: Reason[];
  duplicate?: true;
}

/** An ingest refused whole because the agent's events waiting for the origin are at the cap (AgentMonitor.maxPending). */
export interface IngestBackpressure {
  backlogFull: true;
  pending: number;
  retryAfterS: number;
}

export interface IngestOutcome {
  accepted: number;
  duplicates: number;
  results: EventResult[];
}

export interface RiskView {
  agent_id: string;
  score: number;
  band: Band;
  reasons: Reason[];
  events_scored: number;
  updated_at: string | null;
}
