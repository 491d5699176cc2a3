import { and, inArray } from "drizzle-orm";
import type { ForwardedEvent, ForwardedEvents } from "@kakunin/shared";
import { agentEvents, agents } from "../db/schema.ts";
import { sqlState } from "../db/index.ts";
import { innermostMessage } from "../causes.ts";
import { appendAudit } from "../audit/append.ts";
import { buryDeadLetter } from "../lifecycle/dead-letters.ts";
import type { Services } from "../services.ts";

export interface StoreOutcome {
  stored: number;
  duplicates: number;
  rejected: number;
  dead_lettered: number;
}

/**
 * Stores forwarded events exactly once: the unique (agent_id, event_id) index turns a re-forwarded
 * batch into a no-op; an event_id used again for another event is dead-lettered (buryReused). Events for agents outside their claimed tenant are dropped and counted.
 * An event the database refuses for its data (SQLSTATE class 22/23: a value out of range, say)
 * must not fail the others: the batch is then stored event by event and each refused one goes to
 * the dead letters (acknowledged, so the edge never re-sends it forever).
 */
export async function storeEvents(s: Services, batch: ForwardedEvents): Promise<StoreOutcome> {
  const agentIds = [...new Set(batch.events.map((e) => e.agent_id))];
  const known = await s.db.select({ id: agents.id, tenantId: agents.tenantId }).from(agents).where(inArray(agents.id, agentIds));
  const tenantOf = new Map(known.map((a) => [a.id, a.tenantId]));
  const valid = batch.events.filter((e) => tenantOf.get(e.agent_id) === e.tenant_id);
  const rejected = batch.events.length - valid.length;
  await buryUnknownAgents(s, batch.events.filter((e) => !tenantOf.has(e.agent_id)));
  if (valid.length === 0) return { stored: 0, duplicates: 0, rejected, dead_lettered: 0 };
  try {
    const { stored, reused } = await insertAll(s, valid);
    await buryReused(s, reused);
    return { stored, duplicates: valid.length - stored - reused.length, rejected, dead_lettered: reused.length };
  } catch (e) {
    if (!isDataError(e)) throw e;
  }
  let stored = 0;
  let dead = 0;
  for (const ev of valid) {
    try {
      const one = await insertAll(s, [ev]);
      stored += one.stored;
      await buryReused(s, one.reused);
      dead += one.reused.length;
    } catch (e) {
      if (!isDataError(e)) throw e;
      dead++;
      await buryDeadLetter(s.db, {
        key: `origin:event:${ev.agent_id}:${ev.event.event_id}`, source: "origin", kind: "event", tenantId: ev.tenant_id, agentId: ev.agent_id,
        ref: ev.event.event_id, status: 500, error: `the database refused the event: ${errorText(e)}`, attempts: 1,
        payload: JSON.stringify(ev), firstFailedAt: s.clock.now(),
      }, s.clock.now());
    }
  }
  return { stored, duplicates: valid.length - stored - dead, rejected, dead_lettered: dead };
}

/**
 * Events of an agent this database has no row for: the edge acknowledged them (202) and drops them
 * on our answer, so they are kept as dead letters (404, like a risk alert for an unknown agent),
 * not only counted as `rejected`. What leaves them is a database restored from a dump older than
 * the agent, whose certificate the edge still holds. Events claiming a tenant their agent is not
 * in stay refused without a letter: the letter would show one tenant's events to another.
 */
async function buryUnknownAgents(s: Services, events: ForwardedEvent[]): Promise<void> {
  for (const ev of events) {
    await buryDeadLetter(s.db, {
      key: `origin:event:${ev.agent_id}:${ev.event.event_id}`, source: "origin", kind: "event", tenantId: ev.tenant_id, agentId: ev.agent_id,
      ref: ev.event.event_id, status: 404, error: `agent ${ev.agent_id} not found at the origin (a database restored from a dump older than the agent?); the edge acknowledged the event`,
      attempts: 1, payload: JSON.stringify(ev), firstFailedAt: s.clock.now(),
    }, s.clock.now());
  }
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity): the row, not the database, is the problem. */
function isDataError(e: unknown): boolean {
  const state = sqlState(e);
  return state !== undefined && (state.startsWith("22") || state.startsWith("23"));
}

/** The innermost cause's message: drizzle's outer one carries the SQL and the event's values. */
const errorText = (e: unknown): string => innermostMessage(e, 5);

/**
 * Events whose event_id this agent had already used for an event the edge received at another time.
 * The edge remembers an event_id for 31 days after receipt (events older than 30 days are refused,
 * so no retry comes later); an agent that uses it again afterwards gets a 202 and a score, and the
 * unique index made the new event a silent "duplicate" here: acknowledged, scored, never stored or
 * audited. A re-forward of the same event carries the same received_at. They are dead-lettered
 * (kept with their payload, counted, logged) rather than dropped.
 */
async function buryReused(s: Services, reused: { ev: ForwardedEvent; firstReceivedAt: Date }[]): Promise<void> {
  for (const { ev, firstReceivedAt } of reused) {
    await buryDeadLetter(s.db, {
      key: `origin:event:${ev.agent_id}:${ev.event.event_id}:${ev.received_at}`, source: "origin", kind: "event", tenantId: ev.tenant_id,
      agentId: ev.agent_id, ref: ev.event.event_id, status: 409,
      error: `event_id already used by this agent's event received at ${firstReceivedAt.toISOString()}; this one, received at ${ev.received_at}, is another event`,
      attempts: 1, payload: JSON.stringify(ev), firstFailedAt: s.clock.now(),
    }, s.clock.now());
  }
}

async function insertAll(s: Services, valid: ForwardedEvent[]): Promise<{ stored: number; reused: { ev: ForwardedEvent; firstReceivedAt: Date }[] }> {
  return s.db.transaction(async (tx) => {
    const inserted = await tx
      .insert(agentEvents)
      .values(valid.map((e) => ({
        tenantId: e.tenant_id, agentId: e.agent_id, eventId: e.event.event_id, occurredAt: new Date(e.event.timestamp),
        type: e.event.type, action: e.event.action, event: e.event as Record<string, unknown>, score: e.score, band: e.band,
        reasons: e.reasons, serialNumber: e.serial_number, receivedAt: new Date(e.received_at), shadow: e.shadow ?? null,
      })))
      .onConflictDoNothing({ target: [agentEvents.agentId, agentEvents.eventId] })
      .returning({ agentId: agentEvents.agentId, eventId: agentEvents.eventId });
    // Only events stored now are audited: a re-forwarded batch adds nothing to the log either.
    const fresh = new Set(inserted.map((r) => `${r.agentId}\u0000${r.eventId}`));
    const byTenant = new Map<string, ForwardedEvent[]>();
    // Each stored event once, as stored: of two copies of one (agent, event_id) in a batch the
    // insert kept the first, and auditing both said the event happened twice, the second time with
    // content that was never stored.
    const audited = new Set<string>();
    for (const e of valid) {
      const key = `${e.agent_id}\u0000${e.event.event_id}`;
      if (!fresh.has(key) || audited.has(key)) continue;
      audited.add(key);
      byTenant.set(e.tenant_id, [...(byTenant.get(e.tenant_id) ?? []), e]);
    }
    const at = s.clock.now();
    for (const [tenantId, events] of byTenant) {
      await appendAudit(tx, tenantId, events.map((e) => ({
        kind: "event.ingested" as const, actor: { type: "edge" as const, id: "agent-monitor" }, agentId: e.agent_id, at,
        data: { event: e.event, score: e.score, band: e.band, reasons: e.reasons, serial_number: e.serial_number, received_at: e.received_at },
      })));
    }
    // Not stored: a re-forward (same received_at) or an event_id used again for another event.
    const held = valid.filter((e) => !fresh.has(`${e.agent_id}\u0000${e.event.event_id}`));
    const reused: { ev: ForwardedEvent; firstReceivedAt: Date }[] = [];
    if (held.length > 0) {
      const rows = await tx
        .select({ agentId: agentEvents.agentId, eventId: agentEvents.eventId, receivedAt: agentEvents.receivedAt })
        .from(agentEvents)
        .where(and(inArray(agentEvents.agentId, [...new Set(held.map((e) => e.agent_id))]), inArray(agentEvents.eventId, held.map((e) => e.event.event_id))));
      const first = new Map(rows.map((r) => [`${r.agentId}\u0000${r.eventId}`, r.receivedAt]));
      for (const ev of held) {
        const at = first.get(`${ev.agent_id}\u0000${ev.event.event_id}`);
        if (at && at.getTime() !== Date.parse(ev.received_at)) reused.push({ ev, firstReceivedAt: at });
      }
    }
    return { stored: inserted.length, reused };
  });
}
