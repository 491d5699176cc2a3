import { z } from "@hono/zod-openapi";
import type { webhookAttempts, webhookDeliveries } from "../db/schema.ts";
import type { WebhookRow } from "../lifecycle/create-webhook.ts";
import { cloudEventId, WEBHOOK_EVENT_TYPES } from "../webhooks/enqueue.ts";
import { redactedUrl } from "../webhooks/redact-url.ts";
import { rfc3339 } from "../time.ts";

export const webhookView = z.object({
  id: z.uuid(),
  url: z.string().openapi({ description: "In full for admins; for auditors the query's values read REDACTED (they may be the receiver's credentials)" }),
  event_types: z.array(z.enum(WEBHOOK_EVENT_TYPES)).openapi({ description: "Empty: every event type" }),
  description: z.string().nullable(),
  key_id: z.string().openapi({ description: "Sent as webhook-signature-key-id with every delivery" }),
  created_at: z.string(),
});

/** `full`: the URL as registered (the tenant's admins, who manage it); otherwise redacted. */
export function toWebhookView(w: WebhookRow, full = true): z.infer<typeof webhookView> {
  return {
    id: w.id,
    url: full ? w.url : redactedUrl(w.url),
    event_types: w.eventTypes as z.infer<typeof webhookView>["event_types"],
    description: w.description,
    key_id: w.keyId,
    created_at: rfc3339(w.createdAt),
  };
}

export const deliveryView = z.object({
  id: z.uuid().openapi({ description: "The delivery (one event to this endpoint): what replay's delivery_ids name" }),
  event_id: z.string().openapi({
    description: "The CloudEvents id (and webhook-id header), the same for every endpoint the event went to: receivers dedupe on it",
  }),
  event_type: z.string(),
  agent_id: z.uuid().nullable(),
  status: z.enum(["pending", "delivered", "dead"]),
  attempts: z.number().int().openapi({ description: "Attempts since the delivery was queued or last replayed (a replay gives the full retry budget again)" }),
  next_attempt_at: z.string().nullable(),
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: z.string(),
  delivered_at: z.string().nullable(),
  log: z.array(
    z.object({
      attempt: z.number().int().openapi({ description: "This attempt's number among all of the delivery's attempts, replays included" }),
      at: z.string(),
      status: z.number().int().nullable(),
      error: z.string().nullable(),
      duration_ms: z.number().int(),
    }),
  ),
});

export function toDeliveryView(d: typeof webhookDeliveries.$inferSelect, log: (typeof webhookAttempts.$inferSelect)[]): z.infer<typeof deliveryView> {
  return {
    id: d.id,
    event_id: cloudEventId(d),
    event_type: d.eventType,
    agent_id: d.agentId,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: d.status === "pending" ? rfc3339(d.nextAttemptAt) : null,
    last_status: d.lastStatus,
    last_error: d.lastError,
    created_at: rfc3339(d.createdAt),
    delivered_at: rfc3339(d.deliveredAt),
    log: log.map((a) => ({ attempt: a.attempt, at: rfc3339(a.at), status: a.status, error: a.error, duration_ms: a.durationMs })),
  };
}
