import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Queryable } from "../db/index.ts";
import { rowsOfResult } from "../db/index.ts";
import { apiKeys, ingestTokenMinters } from "../db/schema.ts";

/**
 * Records that an API key minted an ingest token for an agent, inside the mint's transaction.
 * False when the key was revoked meanwhile: the token must not be handed out. The key's row is
 * read FOR SHARE, so a revocation racing this mint either commits first (and this refuses) or
 * waits for this commit and then finds this row among the agents to republish (mintedFor).
 */
export async function recordMinter(tx: Queryable, apiKeyId: string, agentId: string, expiresAt: Date): Promise<boolean> {
  const [live] = await tx
    .select({ id: apiKeys.id })
    .from(apiKeys)
    .where(and(eq(apiKeys.id, apiKeyId), isNull(apiKeys.revokedAt)))
    .for("share");
  if (!live) return false;
  await tx
    .insert(ingestTokenMinters)
    .values({ apiKeyId, agentId, expiresAt })
    .onConflictDoUpdate({
      target: [ingestTokenMinters.apiKeyId, ingestTokenMinters.agentId],
      set: { expiresAt: sql`greatest(${ingestTokenMinters.expiresAt}, excluded.expires_at)` },
    });
  return true;
}

/** Agents holding a token this key minted that is still alive at `now`: their edge records must list the key once it is revoked. */
export async function mintedFor(tx: Queryable, apiKeyId: string, now: Date): Promise<string[]> {
  const rows = await tx
    .select({ agentId: ingestTokenMinters.agentId })
    .from(ingestTokenMinters)
    .where(and(eq(ingestTokenMinters.apiKeyId, apiKeyId), gt(ingestTokenMinters.expiresAt, now)));
  return rows.map((r) => r.agentId);
}

/** API keys revoked after `since` that had minted this agent a token still alive at their revocation. */
export async function revokedMintingKeys(db: Queryable, agentId: string, since: Date, limit: number): Promise<{ id: string; revokedAt: Date }[]> {
  const rows = await db
    .select({ id: apiKeys.id, revokedAt: apiKeys.revokedAt })
    .from(ingestTokenMinters)
    .innerJoin(apiKeys, eq(apiKeys.id, ingestTokenMinters.apiKeyId))
    .where(and(eq(ingestTokenMinters.agentId, agentId), gt(apiKeys.revokedAt, since), gt(ingestTokenMinters.expiresAt, apiKeys.revokedAt)))
    .orderBy(sql`${apiKeys.revokedAt} desc`)
    .limit(limit);
  return rows.map((r) => ({ id: r.id, revokedAt: r.revokedAt! }));
}

/** Rows deleted per run at most, so one refresher run stays short. */
const PRUNE_BATCH = 10_000;

/** Deletes rows whose tokens had all expired before `before`: nothing they name can post any more. */
export async function pruneMinters(tx: Queryable, before: Date): Promise<number> {
  const gone = await tx.execute(sql`
    delete from ingest_token_minters where (api_key_id, agent_id) in (
      select api_key_id, agent_id from ingest_token_minters where expires_at < ${before} limit ${PRUNE_BATCH})
    returning agent_id`);
  return rowsOfResult(gone).length;
}
