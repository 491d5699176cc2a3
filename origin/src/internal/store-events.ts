import { and, eq, inArray } from "drizzle-orm";
import { agentEvents, agents } from "../db/schema.ts";
import type { Services } from "../services.ts";
import type { ForwardedEvents } from "./schemas.ts";

/**
 * Stores forwarded events exactly once: the unique (agent_id, event_id) index turns a re-forwarded
 * batch into a no-op. Events for agents outside their claimed tenant are dropped and counted.
 */
export async function storeEvents(s: Services, batch: ForwardedEvents): Promise<{ stored: number; duplicates: number; rejected: number }> {
  const agentIds = [...new Set(batch.events.map((e) => e.agent_id))];
  const known = await s.db.select({ id: agents.id, tenantId: agents.tenantId }).from(agents).where(inArray(agents.id, agentIds));
  const tenantOf = new Map(known.map((a) => [a.id, a.tenantId]));
  const valid = batch.events.filter((e) => tenantOf.get(e.agent_id) === e.tenant_id);
  if (valid.length === 0) return { stored: 0, duplicates: 0, rejected: batch.events.length };
  const inserted = await s.db
    .insert(agentEvents)
    .values(valid.map((e) => ({
      tenantId: e.tenant_id, agentId: e.agent_id, eventId: e.event.event_id, occurredAt: new Date(e.event.timestamp),
      type: e.event.type, action: e.event.action, event: e.event as Record<string, unknown>, score: e.score, band: e.band,
      reasons: e.reasons, serialNumber: e.serial_number, receivedAt: new Date(e.received_at),
    })))
    .onConflictDoNothing({ target: [agentEvents.agentId, agentEvents.eventId] })
    .returning({ id: agentEvents.id });
  return { stored: inserted.length, duplicates: valid.length - inserted.length, rejected: batch.events.length - valid.length };
}

export async function countEvents(s: Services, agentId: string): Promise<number> {
  return (await s.db.select({ id: agentEvents.id }).from(agentEvents).where(and(eq(agentEvents.agentId, agentId)))).length;
}
