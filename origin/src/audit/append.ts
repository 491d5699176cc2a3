import { and, eq, sql } from "drizzle-orm";
import { AGENT_ACTIVITY_KINDS, canonicalize, completedNodes, leafHash, toHex, type NodeReader } from "@kakunin/shared";
import type { Queryable } from "../db/index.ts";
import { auditAgentHeads, auditEntries, auditHeads, auditNodes } from "../db/schema.ts";
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
  const agentHeads = new Map<string, AgentHead>();
  for (const item of items) {
    const entry: AuditEntry = {
      v: 2, log: tenantId, index: size, kind: item.kind, at: item.at.toISOString(), actor: item.actor,
      agent_id: item.agentId ?? null, data: JSON.parse(JSON.stringify(item.data)) as Record<string, unknown>,
      prev: prev ? toHex(prev) : null,
    };
    const agentHead = item.agentId ? await agentHeadOf(tx, tenantId, item.agentId, agentHeads) : null;
    const lifecycle = !AGENT_ACTIVITY_KINDS.has(item.kind);
    if (agentHead) {
      entry.agent_seq = agentHead.size;
      entry.agent_prev = agentHead.last ? toHex(agentHead.last) : null;
      entry.lifecycle_count = agentHead.lifecycleSize + (lifecycle ? 1 : 0);
      if (lifecycle) entry.lifecycle_prev = agentHead.lastLifecycle ? toHex(agentHead.lastLifecycle) : null;
    }
    const canonical = canonicalize(entry);
    const leaf = await leafHash(enc.encode(canonical));
    if (agentHead) {
      agentHead.size++;
      agentHead.last = leaf;
      if (lifecycle) {
        agentHead.lifecycleSize++;
        agentHead.lastLifecycle = leaf;
      }
    }
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
  for (const [agentId, h] of agentHeads) {
    const row = { size: h.size, lastLeafHash: h.last!, lifecycleSize: h.lifecycleSize, lastLifecycleLeafHash: h.lastLifecycle };
    await tx.insert(auditAgentHeads).values({ tenantId, agentId, ...row })
      .onConflictDoUpdate({ target: [auditAgentHeads.tenantId, auditAgentHeads.agentId], set: row });
  }
  await tx.update(auditHeads).set({ size, lastLeafHash: prev, updatedAt: sql`now()` }).where(eq(auditHeads.tenantId, tenantId));
  return { first, size };
}

interface AgentHead {
  size: number;
  last: Uint8Array | null;
  lifecycleSize: number;
  lastLifecycle: Uint8Array | null;
}

/**
 * The agent's chain head, read once per append (the tenant's head row lock, already held, orders
 * every writer of this tenant's agent heads). An agent whose entries all predate audit entry v2
 * starts its chain at 0 here; docs/evidence-format.md says what that means for old entries.
 */
async function agentHeadOf(tx: Queryable, tenantId: string, agentId: string, cache: Map<string, AgentHead>): Promise<AgentHead> {
  const hit = cache.get(agentId);
  if (hit) return hit;
  const [row] = await tx.select().from(auditAgentHeads).where(and(eq(auditAgentHeads.tenantId, tenantId), eq(auditAgentHeads.agentId, agentId)));
  const head: AgentHead = row
    ? { size: row.size, last: row.lastLeafHash, lifecycleSize: row.lifecycleSize, lastLifecycle: row.lastLifecycleLeafHash }
    : { size: 0, last: null, lifecycleSize: 0, lastLifecycle: null };
  cache.set(agentId, head);
  return head;
}

/** A NodeReader over committed nodes, for proofs and roots. */
export function committedReader(tx: Queryable, tenantId: string): NodeReader {
  return reader(tx, tenantId, new Map());
}
