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
 * Queues one CloudEvent for every endpoint of the tenant that wants it, inside the caller's
 * transaction: the notification is committed with the state change or not at all. Delivery is
 * the dispatcher's job (at least once; receivers dedupe on `id`).
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
  await tx.insert(webhookDeliveries).values(
    wanted.map((ep) => {
      const id = crypto.randomUUID();
      return {
        id,
        tenantId: e.tenantId,
        endpointId: ep.id,
        eventType: e.type,
        agentId: e.agentId,
        nextAttemptAt: e.at,
        createdAt: e.at,
        payload: {
          specversion: "1.0",
          id,
          source: `urn:kakunin:tenant:${e.tenantId}`,
          type: e.type,
          subject: `urn:kakunin:agent:${e.agentId}`,
          time: e.at.toISOString(),
          datacontenttype: "application/json",
          data: { agent_id: e.agentId, ...e.data },
        },
      };
    }),
  );
}
