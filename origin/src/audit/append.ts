import { and, eq, sql } from "drizzle-orm";
import { canonicalize, completedNodes, leafHash, toHex, type NodeReader } from "@kakunin/shared";
import type { Queryable } from "../db/index.ts";
import { auditEntries, auditHeads, auditNodes } from "../db/schema.ts";
import type { AuditEntry, AuditItem } from "./types.ts";

const enc = new TextEncoder();

/** Reads perfect-subtree hashes: those written earlier in this batch first, then the database. */
function reader(tx: Queryable, tenantId: string, fresh: Map<string, Uint8Array>): NodeReader {
  return {
    async get(level, index) {
      const hit = fresh.get(`${level}:${index}`);
      if (hit) return hit;
      const [row] = await tx
        .select({ hash: auditNodes.hash })
        .from(auditNodes)
        .where(and(eq(auditNodes.tenantId, tenantId), eq(auditNodes.level, level), eq(auditNodes.idx, index)));
      if (!row) throw new Error(`audit node ${level}/${index} missing for tenant ${tenantId}`);
      return row.hash;
    },
  };
}

/**
 * Appends entries to the tenant's log inside the caller's transaction, so an operation and its
 * audit entry commit together or not at all. The head row is locked for the transaction: appends
 * to one tenant's log are strictly ordered; other tenants are not blocked.
 */
export async function appendAudit(tx: Queryable, tenantId: string, items: AuditItem[]): Promise<{ first: number; size: number }> {
  await tx.insert(auditHeads).values({ tenantId }).onConflictDoNothing();
  const [head] = await tx.select().from(auditHeads).where(eq(auditHeads.tenantId, tenantId)).for("update");
  let size = head!.size;
  let prev: Uint8Array | null = head!.lastLeafHash;
  const first = size;
  if (items.length === 0) return { first, size };
  const fresh = new Map<string, Uint8Array>();
  const nodeRows: { tenantId: string; level: number; idx: number; hash: Uint8Array }[] = [];
  const entryRows: (typeof auditEntries.$inferInsert)[] = [];
  const read = reader(tx, tenantId, fresh);
  for (const item of items) {
    const entry: AuditEntry = {
      v: 1, log: tenantId, index: size, kind: item.kind, at: item.at.toISOString(), actor: item.actor,
      agent_id: item.agentId ?? null, data: JSON.parse(JSON.stringify(item.data)) as Record<string, unknown>,
      prev: prev ? toHex(prev) : null,
    };
    const canonical = canonicalize(entry);
    const leaf = await leafHash(enc.encode(canonical));
    for (const n of await completedNodes(size, leaf, read)) {
      fresh.set(`${n.level}:${n.index}`, n.hash);
      nodeRows.push({ tenantId, level: n.level, idx: n.index, hash: n.hash });
    }
    entryRows.push({ tenantId, idx: size, kind: item.kind, agentId: item.agentId ?? null, canonical, leafHash: leaf, createdAt: item.at });
    prev = leaf;
    size++;
  }
  // Chunked: one statement per few hundred rows keeps parameter counts well under PostgreSQL's limit.
  for (let i = 0; i < entryRows.length; i += 500) await tx.insert(auditEntries).values(entryRows.slice(i, i + 500));
  for (let i = 0; i < nodeRows.length; i += 1000) await tx.insert(auditNodes).values(nodeRows.slice(i, i + 1000));
  await tx.update(auditHeads).set({ size, lastLeafHash: prev, updatedAt: sql`now()` }).where(eq(auditHeads.tenantId, tenantId));
  return { first, size };
}

/** A NodeReader over committed nodes, for proofs and roots. */
export function committedReader(tx: Queryable, tenantId: string): NodeReader {
  return reader(tx, tenantId, new Map());
}
