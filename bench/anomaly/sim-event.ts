import type { AgentEvent } from "@kakunin/shared";
import type { EventType, Outcome } from "./types.ts";

/**
 * One simulated event before its id is assigned (time as epoch ms): what world B's and world C's
 * generators emit, and world A's drafts (types.Draft) are. Harness, not generator: the worlds share
 * this shape and its conversion to the wire event, and nothing about how their events are drawn.
 */
export interface SimEvent {
  ts: number;
  type: EventType;
  action: string;
  resource?: string;
  amount?: number;
  currency?: string;
  outcome: Outcome;
  latencyMs?: number;
  attributes?: Record<string, number | string>;
}

/** The wire event (shared/src/events.ts) for a simulated one: only the fields it has, RFC 3339 time. */
export function toAgentEvent(id: string, ev: SimEvent): AgentEvent {
  const e: AgentEvent = { event_id: id, timestamp: new Date(ev.ts).toISOString(), type: ev.type, action: ev.action, outcome: ev.outcome };
  if (ev.resource !== undefined) e.resource = ev.resource;
  if (ev.amount !== undefined) e.amount = ev.amount;
  if (ev.currency !== undefined) e.currency = ev.currency;
  if (ev.latencyMs !== undefined) e.latency_ms = ev.latencyMs;
  if (ev.attributes !== undefined) e.attributes = ev.attributes;
  return e;
}
