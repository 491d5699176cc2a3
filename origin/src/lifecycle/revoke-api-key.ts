import { and, eq, isNull } from "drizzle-orm";
import type { Result } from "@kakunin/shared";
import { ok } from "@kakunin/shared";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import type { Queryable } from "../db/index.ts";
import { apiKeys } from "../db/schema.ts";
import { enqueue } from "../publish/outbox.ts";
import { mintedFor } from "./ingest-token-minters.ts";
import type { Services } from "../services.ts";
import { fail, type Failure } from "./failure.ts";

type ApiKeyRow = typeof apiKeys.$inferSelect;

/**
 * In the transaction that revokes an API key, whatever revokes it (DELETE /v1/api-keys/:id, a
 * changed KAKUNIN_ADMIN_KEY at start): the edge verifies ingest tokens on its own, so the records
 * of the agents this key minted live tokens for are queued again; they now list the key, and the
 * edge refuses those tokens (records.ts, revokedMinters).
 */
export async function republishMintedFor(tx: Queryable, apiKeyId: string, revokedAt: Date): Promise<void> {
  await enqueue(
    tx,
    (await mintedFor(tx, apiKeyId, revokedAt)).map((agentId) => ({ kind: "agent" as const, subject: agentId })),
  );
}

/** Revokes one of the tenant's API keys (audited `api_key.revoked`); 404 unknown, 409 already revoked. */
export async function revokeApiKey(s: Services, tenantId: string, id: string, actor: AuditActor): Promise<Result<ApiKeyRow, Failure>> {
  const mine = and(eq(apiKeys.id, id), eq(apiKeys.tenantId, tenantId));
  const row = await s.db.transaction(async (tx) => {
    const [revoked] = await tx
      .update(apiKeys)
      .set({ revokedAt: s.clock.now() })
      .where(and(mine, isNull(apiKeys.revokedAt)))
      .returning();
    if (revoked) {
      await appendAudit(tx, tenantId, [
        { kind: "api_key.revoked", actor, at: revoked.revokedAt!, data: { api_key_id: revoked.id, name: revoked.name, role: revoked.role } },
      ]);
      await republishMintedFor(tx, revoked.id, revoked.revokedAt!);
    }
    return revoked;
  });
  // Committed: this origin's read-only routes stop accepting the key at once (others within KAKUNIN_AUTH_CACHE_MS).
  if (row) s.callers.clear();
  if (row) return ok(row);
  const [existing] = await s.db.select({ id: apiKeys.id }).from(apiKeys).where(mine);
  return existing ? fail("conflict", `api key ${id} is already revoked`) : fail("not-found", `api key ${id} not found`);
}
