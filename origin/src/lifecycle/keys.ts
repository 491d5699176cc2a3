import { randomUUID } from "node:crypto";
import { errorFields, processLogger } from "../observability/logger.ts";
import { and, eq, inArray } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import type { Db, Queryable } from "../db/index.ts";
import { managedKeys } from "../db/schema.ts";
import type { CreatedKey, KeyManager, KeyManagerError } from "../kms/types.ts";

export type KeyPurpose = "agent" | "root" | "issuing" | "audit";

/** What creating and discarding keys needs: the database (for intents) and the backend. */
export interface KeyDeps {
  db: Db;
  keys: KeyManager;
  /** AWS KMS waiting period for discarded keys (7–30 days). */
  pendingWindowDays: number;
  /** The injected clock: intent ages are compared with tidy's cutoff, which comes from it too. */
  now: () => Date;
}

export interface TrackedKey extends CreatedKey {
  /** The `managed_keys` row (and the id written onto the backend key). */
  intentId: string;
}

/**
 * Creates a key the way every Kakunin key must be created: the intent is committed BEFORE the
 * backend call, so a crash or a lost response between CreateKey and the commit that references
 * the key leaves a `creating` row the tidy job resolves (it finds the key by its intent id).
 */
export async function createTrackedKey(
  deps: KeyDeps,
  spec: { purpose: KeyPurpose; tenantId: string | null; label: string },
): Promise<Result<TrackedKey, KeyManagerError>> {
  const intentId = randomUUID();
  await deps.db.insert(managedKeys).values({
    id: intentId, tenantId: spec.tenantId, purpose: spec.purpose, backend: deps.keys.kind, label: spec.label, state: "creating", createdAt: deps.now(),
  });
  const key = await deps.keys.createKey(spec.label, { intent: intentId });
  // A failed call stays `creating`: the backend may have made the key and lost the answer.
  if (!key.ok) return key;
  // Never over a deletion tidy claimed meanwhile (it found the key by its intent id): the caller's
  // commit then sees the intent is not `created` (lockKeyForUse) and stores nothing on the key.
  await deps.db.update(managedKeys).set({ keyRef: key.value.ref, state: "created" })
    .where(and(eq(managedKeys.id, intentId), inArray(managedKeys.state, ["creating", "abandoned"])));
  return ok({ ...key.value, intentId });
}

/**
 * Inside the transaction that commits the row referencing a new key (before its audit entries):
 * locks the key's intent and says whether it is still `created`. Tidy's orphan step claims an
 * intent nothing references yet; on another connection (or another origin) it could claim the
 * key of a certify in flight, between the key's creation and that commit, and an active
 * certificate was stored whose key the KMS was deleting. Tidy's claim locks the same row and
 * re-checks the references after it (tidy.ts), so of the two exactly one proceeds. Lock order:
 * the agent, this intent, the audit head, as tidy's claim takes intent, then audit head.
 */
export async function lockKeyForUse(tx: Queryable, key: TrackedKey): Promise<boolean> {
  const [row] = await tx.select({ state: managedKeys.state }).from(managedKeys).where(eq(managedKeys.id, key.intentId)).for("update");
  return row?.state === "created";
}

/**
 * Deletes a key that was created but will never be referenced (a certify that lost its race, a
 * failed commit, the losing side of a CA-creation race). The deletion is recorded as `deleting`
 * before the backend call; if that call fails the tidy job retries it. Never throws: the caller is
 * already on a failure path and must return its own answer.
 */
export async function discardKey(deps: KeyDeps, key: TrackedKey, reason: string, now: Date): Promise<void> {
  try {
    await deps.db
      .update(managedKeys)
      .set({ state: "deleting", deleteReason: reason, deletionRequestedAt: now })
      .where(and(eq(managedKeys.id, key.intentId), inArray(managedKeys.state, ["creating", "created"])));
    const res = await deps.keys.scheduleDeletion(key.ref, { pendingWindowDays: deps.pendingWindowDays });
    if (!res.ok) {
      processLogger("key_manager").warn("key not deleted yet; tidy will retry", { event: "key_delete_deferred", key_ref: key.ref, code: res.error.code });
      return;
    }
    await deps.db
      .update(managedKeys)
      .set({ state: "deleted", deletedAt: now, deletionDate: res.value.deletionDate })
      .where(eq(managedKeys.id, key.intentId));
  } catch (e) {
    processLogger("key_manager").warn("key not deleted yet; tidy will retry", { event: "key_delete_deferred", key_ref: key.ref, ...errorFields(e) });
  }
}

export const keyDeps = (s: { db: Db; keys: KeyManager; clock: { now(): Date }; config: { KAKUNIN_KEY_DELETION_WINDOW_DAYS: number } }): KeyDeps => ({
  db: s.db, keys: s.keys, pendingWindowDays: s.config.KAKUNIN_KEY_DELETION_WINDOW_DAYS, now: () => s.clock.now(),
});
