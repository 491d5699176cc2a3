/**
 * Fills the node cache with a whole tenant tree in the background, once the tree is asked for and
 * missed: stored nodes (levels ≥ TILE_LEVEL, 1/8 of a row per entry) first, then leaf tiles from
 * the newest back, in pages of WARM_PAGE indices, one query at a time, until the tree is in or
 * the tenant would take more than WARM_SHARE of the cache's bound. A random proof in a million
 * entries needs a random leaf tile, so without this every cold proof reads one; with it a warm
 * tree answers from memory. The warm reads only committed rows outside any transaction; a failure
 * only leaves misses (counted in `warmFailures`).
 */
import { and, between, eq } from "drizzle-orm";
import type { Queryable } from "../db/index.ts";
import { auditEntries, auditHeads, auditNodes } from "../db/schema.ts";
import { CHUNK_COST, type AuditNodeCache } from "./node-cache.ts";
import { CHUNK, ChunkAssembler, TILE_LEVEL } from "./nodes.ts";

export const WARM_PAGE = 4096;
const WARM_SHARE = 0.9;
/** A tenant is warmed again at most this often (ms): after evictions, or for what was appended since. */
const REWARM_MS = 10 * 60_000;

export function warmInBackground(db: Queryable, tenantId: string, cache: AuditNodeCache): void {
  // A rate limit on background work, not a timestamp anyone sees: the monotonic clock, which a
  // wall-clock step (NTP, a test's manual clock) cannot move.
  const now = performance.now();
  if (!cache.claimWarm(tenantId, now, REWARM_MS)) return;
  void warm(db, tenantId, cache).catch(() => {
    cache.warmFailures++;
  });
}

async function warm(db: Queryable, tenantId: string, cache: AuditNodeCache): Promise<void> {
  const [h] = await db.select({ size: auditHeads.size }).from(auditHeads).where(eq(auditHeads.tenantId, tenantId));
  const size = h?.size ?? 0;
  let budget = Math.floor((cache.maxBytes * WARM_SHARE) / CHUNK_COST);
  const put = (level: number, rows: { idx: number; hash: Uint8Array }[]) => {
    const chunks = new ChunkAssembler();
    for (const r of rows) chunks.add(level, r.idx, r.hash);
    for (const c of chunks.chunks().values()) {
      cache.put(tenantId, c.level, c.chunk, c.hashes, c.count);
      budget--;
    }
  };
  for (let level = TILE_LEVEL; size >> level > 0 && budget > 0; level++) {
    for (let from = 0; from < size >> level && budget > 0; from += WARM_PAGE) {
      const rows = await db
        .select({ idx: auditNodes.idx, hash: auditNodes.hash })
        .from(auditNodes)
        .where(and(eq(auditNodes.tenantId, tenantId), eq(auditNodes.level, level), between(auditNodes.idx, from, from + WARM_PAGE - 1)));
      put(level, rows);
    }
  }
  for (let to = Math.ceil(size / CHUNK) * CHUNK; to > 0 && budget > 0; to -= WARM_PAGE) {
    const from = Math.max(0, to - WARM_PAGE);
    const rows = await db
      .select({ idx: auditEntries.idx, hash: auditEntries.leafHash })
      .from(auditEntries)
      .where(and(eq(auditEntries.tenantId, tenantId), between(auditEntries.idx, from, to - 1)));
    put(0, rows);
  }
}
