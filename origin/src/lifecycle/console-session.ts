import { createHash, createHmac, randomBytes } from "node:crypto";
import { and, eq, gt, isNull } from "drizzle-orm";
import { appendAudit } from "../audit/append.ts";
import type { Caller } from "../auth/authenticate.ts";
import type { Db } from "../db/index.ts";
import { apiKeys, consoleSessions, tenants } from "../db/schema.ts";

/** How long a console session lives: short, like a bank's web session; signing in again is cheap. */
export const CONSOLE_SESSION_TTL_S = 30 * 60;

const hash = (token: string): string => createHash("sha256").update(token, "utf8").digest("hex");

/**
 * The CSRF token of a session, derived from its secret (never stored): a page embeds it in every
 * form and the POST must send it back. Another site can neither read the HttpOnly cookie nor the page.
 */
export function csrfTokenOf(sessionToken: string): string {
  return createHmac("sha256", sessionToken).update("kakunin-console-csrf").digest("base64url");
}

/**
 * Exchanges an already-resolved API key for a session: a 256-bit token (the cookie), stored as its
 * SHA-256, audited as `console.signed_in` in the same transaction. Agent credentials never get one.
 */
export async function openConsoleSession(db: Db, caller: Caller, now: Date): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(now.getTime() + CONSOLE_SESSION_TTL_S * 1000);
  await db.transaction(async (tx) => {
    const [row] = await tx
      .insert(consoleSessions)
      .values({ tenantId: caller.tenantId, apiKeyId: caller.keyId, tokenHash: hash(token), createdAt: now, expiresAt })
      .returning({ id: consoleSessions.id });
    await appendAudit(tx, caller.tenantId, [
      {
        kind: "console.signed_in",
        at: now,
        actor: { type: "api_key", id: caller.keyId, role: caller.role },
        data: { session_id: row!.id, expires_at: expiresAt.toISOString() },
      },
    ]);
  });
  return { token, expiresAt };
}

/** The caller behind a live session: not expired, not signed out, and its API key not revoked. */
export async function resolveConsoleSession(db: Db, token: string, now: Date): Promise<(Caller & { sessionId: string }) | undefined> {
  const [row] = await db
    .select({
      sessionId: consoleSessions.id,
      keyId: apiKeys.id,
      role: apiKeys.role,
      tenantId: tenants.id,
      tenantName: tenants.name,
      isOperator: tenants.isOperator,
    })
    .from(consoleSessions)
    .innerJoin(apiKeys, eq(consoleSessions.apiKeyId, apiKeys.id))
    .innerJoin(tenants, eq(consoleSessions.tenantId, tenants.id))
    .where(and(eq(consoleSessions.tokenHash, hash(token)), isNull(consoleSessions.revokedAt), gt(consoleSessions.expiresAt, now), isNull(apiKeys.revokedAt)));
  return row ? { ...row, agentId: null } : undefined;
}

/** Signs out: the session is revoked (not deleted, so the audit entry keeps pointing at a row). */
export async function closeConsoleSession(db: Db, caller: Caller & { sessionId: string }, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    const done = await tx
      .update(consoleSessions)
      .set({ revokedAt: now })
      .where(and(eq(consoleSessions.id, caller.sessionId), isNull(consoleSessions.revokedAt)))
      .returning({ id: consoleSessions.id });
    if (done.length === 0) return;
    await appendAudit(tx, caller.tenantId, [
      {
        kind: "console.signed_out",
        at: now,
        actor: { type: "api_key", id: caller.keyId, role: caller.role },
        data: { session_id: caller.sessionId },
      },
    ]);
  });
}
