import { ok, err, type Result } from "@kakunin/shared";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { webhookEndpoints } from "../db/schema.ts";
import type { Services } from "../services.ts";
import { checkWebhookUrl, resolvePublic, type Resolver } from "../webhooks/address-guard.ts";
import { newSecret } from "../webhooks/sign.ts";
import { fail, type Failure } from "./failure.ts";

export type WebhookRow = typeof webhookEndpoints.$inferSelect;

/**
 * Registers an endpoint. The URL must be http(s) without credentials, and its host must resolve
 * only to public addresses unless KAKUNIN_WEBHOOK_ALLOW_PRIVATE=1 (checked again at each delivery).
 * The signing secret is generated here and shown once, in the answer.
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
  const row = await s.db.transaction(async (tx) => {
    const [created] = await tx
      .insert(webhookEndpoints)
      .values({
        tenantId,
        url: url.value.toString(),
        eventTypes: input.event_types ?? [],
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
        data: { webhook_id: created!.id, url: created!.url, event_types: created!.eventTypes, key_id: keyId },
      },
    ]);
    return created!;
  });
  return row ? ok(row) : err({ type: "internal-error", detail: "not created" });
}
