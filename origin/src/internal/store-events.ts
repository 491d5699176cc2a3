import { inArray } from "drizzle-orm";
import { agentEvents, agents } from "../db/schema.ts";
import { appendAudit } from "../audit/append.ts";
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
  return s.db.transaction(async (tx) => {
  const inserted = await tx
    .insert(agentEvents)
    .values(valid.map((e) => ({
      tenantId: e.tenant_id, agentId: e.agent_id, eventId: e.event.event_id, occurredAt: new Date(e.event.timestamp),
      type: e.event.type, action: e.event.action, event: e.event as Record<string, unknown>, score: e.score, band: e.band,
      reasons: e.reasons, serialNumber: e.serial_number, receivedAt: new Date(e.received_at),
    })))
    .onConflictDoNothing({ target: [agentEvents.agentId, agentEvents.eventId] })
    .returning({ agentId: agentEvents.agentId, eventId: agentEvents.eventId });
  // Only events stored now are audited: a re-forwarded batch adds nothing to the log either.
  const fresh = new Set(inserted.map((r) => `${r.agentId}\u0000${r.eventId}`));
  const byTenant = new Map<string, typeof valid>();
  for (const e of valid) {
    if (!fresh.has(`${e.agent_id}\u0000${e.event.event_id}`)) continue;
    byTenant.set(e.tenant_id, [...(byTenant.get(e.tenant_id) ?? []), e]);
  }
  const at = s.clock.now();
  for (const [tenantId, events] of byTenant) {
    await appendAudit(tx, tenantId, events.map((e) => ({
      kind: "event.ingested" as const, actor: { type: "edge" as const, id: "agent-monitor" }, agentId: e.agent_id, at,
      data: { event: e.event, score: e.score, band: e.band, reasons: e.reasons, serial_number: e.serial_number, received_at: e.received_at },
    })));
  }
  return { stored: inserted.length, duplicates: valid.length - inserted.length, rejected: batch.events.length - valid.length };
  });
}
