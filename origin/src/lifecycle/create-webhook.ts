import { ok, err, type Result } from "@kakunin/shared";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { and, count, eq, isNull } from "drizzle-orm";
import { tenants, webhookEndpoints } from "../db/schema.ts";
import type { Services } from "../services.ts";
import { checkWebhookUrl, resolvePublic, type Resolver } from "../webhooks/address-guard.ts";
import { redactedUrl } from "../webhooks/redact-url.ts";
import { newSecret } from "../webhooks/sign.ts";
import { fail, type Failure } from "./failure.ts";

export type WebhookRow = typeof webhookEndpoints.$inferSelect;

/**
 * Registers an endpoint. The URL must be http(s) without credentials, and its host must resolve
 * only to public addresses unless KAKUNIN_WEBHOOK_ALLOW_PRIVATE=1 (checked again at each delivery).
 * The signing secret is generated here and shown once, in the answer. At most
 * KAKUNIN_WEBHOOK_MAX_ENDPOINTS (20) active endpoints per tenant: every event fans out to each, on
 * a dispatcher every tenant shares.
 */
export async function createWebhook(
  s: Services,
  tenantId: string,
  input: { url: string; event_types?: string[]; description?: string },
  actor: AuditActor,
  resolve?: Resolver,
): Promise<Result<WebhookRow, Failure>> {
  const url = checkWebhookUrl(input.url);
  if (!url.ok) return fail("webhook-url-refused", `url ${url.error}`);
  const allowPrivate = s.config.KAKUNIN_WEBHOOK_ALLOW_PRIVATE === "1";
  const addr = await resolvePublic(url.value.hostname, allowPrivate, resolve);
  if (!addr.ok) return fail("webhook-url-refused", addr.error + (allowPrivate ? "" : " (set KAKUNIN_WEBHOOK_ALLOW_PRIVATE=1 for local receivers)"));
  const now = s.clock.now();
  const { secret, keyId } = newSecret();
  const max = s.config.KAKUNIN_WEBHOOK_MAX_ENDPOINTS;
  return s.db.transaction(async (tx): Promise<Result<WebhookRow, Failure>> => {
    // The tenant row is the lock: concurrent registrations are counted one after another (NO KEY
    // UPDATE, so rows that merely reference the tenant are not held up).
    await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)).for("no key update");
    const [{ n } = { n: 0 }] = await tx
      .select({ n: count() })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.tenantId, tenantId), isNull(webhookEndpoints.disabledAt)));
    if (n >= max)
      return fail("webhook-limit", `the tenant already has ${n} webhook endpoints (at most ${max}); remove one first (DELETE /v1/tenant/webhooks/:id)`);
    const [created] = await tx
      .insert(webhookEndpoints)
      .values({
        tenantId,
        url: url.value.toString(),
        // A set: a type given twice is one subscription (kept in the order first given).
        eventTypes: [...new Set(input.event_types ?? [])],
        secret,
        keyId,
        description: input.description ?? null,
        createdAt: now,
      })
      .returning();
    await appendAudit(tx, tenantId, [
      {
        kind: "webhook.created",
        actor,
        at: now,
        data: { webhook_id: created!.id, url: redactedUrl(created!.url), event_types: created!.eventTypes, key_id: keyId },
      },
    ]);
    return created ? ok(created) : err({ type: "internal-error", detail: "not created" });
  });
}
