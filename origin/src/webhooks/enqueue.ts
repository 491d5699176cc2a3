import { and, eq, isNull } from "drizzle-orm";
import type { Queryable } from "../db/index.ts";
import { webhookDeliveries, webhookEndpoints } from "../db/schema.ts";

/** CloudEvents `type`s Kakunin emits. */
export const WEBHOOK_EVENT_TYPES = [
  "io.kakunin.agent.risk.high",
  "io.kakunin.agent.auto_revoked",
  "io.kakunin.agent.review_required",
  "io.kakunin.agent.reviewed",
  "io.kakunin.certificate.revoked",
  "io.kakunin.certificate.renewed",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * The CloudEvents id a delivery carries, sent as its webhook-id: one per event, shared by every
 * endpoint's delivery. A row queued when the id was the row's own still has that id in its payload.
 */
export function cloudEventId(d: { id: string; payload: Record<string, unknown> }): string {
  return typeof d.payload.id === "string" ? d.payload.id : d.id;
}

/**
 * Queues one CloudEvent for every endpoint of the tenant that wants it, inside the caller's
 * transaction: the notification is committed with the state change or not at all. Delivery is
 * the dispatcher's job (at least once; receivers dedupe on `id`).
 *
 * Every endpoint gets the same CloudEvents `id`: it is one event. A secret is rotated by
 * registering the endpoint again before removing the old one, and a receiver behind both must
 * see the two requests as one event; each delivery keeps its own row id for the log and replay.
 */
export async function emitWebhook(
  tx: Queryable,
  e: { tenantId: string; type: WebhookEventType; agentId: string; at: Date; data: Record<string, unknown> },
): Promise<void> {
  const endpoints = await tx
    .select({ id: webhookEndpoints.id, types: webhookEndpoints.eventTypes })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.tenantId, e.tenantId), isNull(webhookEndpoints.disabledAt)));
  const wanted = endpoints.filter((ep) => ep.types.length === 0 || ep.types.includes(e.type));
  if (wanted.length === 0) return;
  const eventId = crypto.randomUUID();
  await tx.insert(webhookDeliveries).values(
    wanted.map((ep) => ({
      tenantId: e.tenantId,
      endpointId: ep.id,
      eventType: e.type,
      agentId: e.agentId,
      nextAttemptAt: e.at,
      createdAt: e.at,
      payload: {
        specversion: "1.0",
        id: eventId,
        source: `urn:kakunin:tenant:${e.tenantId}`,
        type: e.type,
        subject: `urn:kakunin:agent:${e.agentId}`,
        time: e.at.toISOString(),
        datacontenttype: "application/json",
        data: { agent_id: e.agentId, ...e.data },
      },
    })),
  );
}
