import { and, eq, isNull } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { webhookDeliveries, webhookEndpoints } from "../db/schema.ts";
import type { Services } from "../services.ts";
import type { WebhookRow } from "./create-webhook.ts";
import { redactedUrl } from "../webhooks/redact-url.ts";
import { fail, type Failure } from "./failure.ts";

/**
 * Removes a webhook endpoint: nothing more is queued for it or sent to it (a lapsed domain, a
 * leaked secret, a receiver the tenant no longer runs). The row stays, disabled, with its delivery
 * log (what was sent where is evidence); its pending deliveries end dead with the reason and are
 * not replayable. Audited in the same transaction; another tenant's endpoint, or one already
 * removed, is not found.
 */
export async function deleteWebhook(s: Services, tenantId: string, endpointId: string, actor: AuditActor): Promise<Result<WebhookRow, Failure>> {
  const now = s.clock.now();
  return s.db.transaction(async (tx) => {
    const [ep] = await tx
      .update(webhookEndpoints)
      .set({ disabledAt: now })
      .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.tenantId, tenantId), isNull(webhookEndpoints.disabledAt)))
      .returning();
    if (!ep) return fail("not-found", `webhook ${endpointId} not found`);
    const cancelled = await tx
      .update(webhookDeliveries)
      .set({ status: "dead", claimedUntil: null, lastError: "endpoint deleted" })
      .where(and(eq(webhookDeliveries.endpointId, ep.id), eq(webhookDeliveries.status, "pending")))
      .returning({ id: webhookDeliveries.id });
    await appendAudit(tx, tenantId, [
      {
        kind: "webhook.deleted",
        actor,
        at: now,
        data: { webhook_id: ep.id, url: redactedUrl(ep.url), key_id: ep.keyId, cancelled_deliveries: cancelled.length },
      },
    ]);
    return ok(ep);
  });
}
