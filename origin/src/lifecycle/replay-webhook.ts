import { and, eq, inArray, isNull } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { webhookDeliveries, webhookEndpoints } from "../db/schema.ts";
import type { Services } from "../services.ts";
import { fail, type Failure } from "./failure.ts";

/**
 * Puts deliveries of one endpoint back in the queue (the chosen ones, whatever their status, or
 * every dead-lettered one), with the same CloudEvents id so receivers that saw one dedupe it.
 * Audited in the same transaction; an endpoint outside the tenant is not found.
 */
export async function replayWebhook(
  s: Services,
  tenantId: string,
  endpointId: string,
  deliveryIds: string[] | undefined,
  actor: AuditActor,
): Promise<Result<{ requeued: number }, Failure>> {
  const now = s.clock.now();
  return s.db.transaction(async (tx) => {
    const [ep] = await tx
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.tenantId, tenantId), isNull(webhookEndpoints.disabledAt)));
    // A removed endpoint is gone for sending: nothing is replayed to it.
    if (!ep) return fail("not-found", `webhook ${endpointId} not found`);
    const which = deliveryIds ? inArray(webhookDeliveries.id, deliveryIds) : eq(webhookDeliveries.status, "dead");
    const rows = await tx
      .update(webhookDeliveries)
      .set({ status: "pending", attempts: 0, nextAttemptAt: now, claimedUntil: null, deliveredAt: null })
      .where(and(eq(webhookDeliveries.endpointId, endpointId), which))
      .returning({ id: webhookDeliveries.id });
    await appendAudit(tx, tenantId, [
      {
        kind: "webhook.replayed",
        actor,
        at: now,
        data: { webhook_id: endpointId, delivery_ids: rows.map((r) => r.id) },
      },
    ]);
    return ok({ requeued: rows.length });
  });
}
