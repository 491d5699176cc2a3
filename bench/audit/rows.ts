import { randomUUID } from "node:crypto";
import type { AuditItem } from "@kakunin/origin/audit/types";
import { Rng } from "../common/rng.ts";

/** The suite's seeded PRNG as a function: the same run draws the same amounts and proof indices. */
export function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.next();
}

/** The `data` of an event.ingested entry, shaped exactly as internal/store-events.ts writes it. */
export function eventData(n: number, serial: string, at: Date, rand: () => number): Record<string, unknown> {
  return {
    event: {
      event_id: `bench-${n}`, timestamp: at.toISOString(), type: "transaction", action: "orders.place",
      resource: `orders/${n}`, amount: Math.round(rand() * 1_000_000) / 100, currency: "EUR", outcome: "success", latency_ms: 12,
    },
    score: 0.12, band: "low", reasons: [{ feature: "rate", contribution: 0.05, detail: "within the agent's usual rhythm" }],
    serial_number: serial, received_at: at.toISOString(),
  };
}

/** A batch of audit items as one forwarded ingest batch produces them (one per stored event). */
export function eventBatch(first: number, count: number, agentId: string, serial: string, rand: () => number): AuditItem[] {
  const at = new Date();
  return Array.from({ length: count }, (_, i) => ({
    kind: "event.ingested" as const, actor: { type: "edge" as const, id: "agent-monitor" }, agentId, at,
    data: eventData(first + i, serial, at, rand),
  }));
}

export const newAgentId = (): string => randomUUID();
