import { and, eq, sql } from "drizzle-orm";
import { AGENT_ACTIVITY_KINDS, canonicalize, completedNodes, leafHash, toHex, type NodeReader } from "@kakunin/shared";
import { onDemandReader, TILE_LEVEL } from "./nodes.ts";
import type { Queryable } from "../db/index.ts";
import { auditAgentHeads, auditEntries, auditHeads, auditNodes } from "../db/schema.ts";
import type { AuditEntry, AuditItem } from "./types.ts";

const enc = new TextEncoder();

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
  const nodeRows: { level: number; idx: number; hash: Uint8Array }[] = [];
  const entryRows: (typeof auditEntries.$inferInsert)[] = [];
  const read = onDemandReader(tx, tenantId, fresh);
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
      if (n.level >= TILE_LEVEL) nodeRows.push({ level: n.level, idx: n.index, hash: n.hash });
    }
    entryRows.push({ tenantId, idx: size, kind: item.kind, agentId: item.agentId ?? null, canonical, leafHash: leaf, createdAt: item.at });
    prev = leaf;
    size++;
  }
  await insertEntries(tx, tenantId, entryRows);
  await insertNodes(tx, tenantId, nodeRows);
  for (const [agentId, h] of agentHeads) {
    const row = { size: h.size, lastLeafHash: h.last!, lifecycleSize: h.lifecycleSize, lastLifecycleLeafHash: h.lastLifecycle };
    await tx.insert(auditAgentHeads).values({ tenantId, agentId, ...row })
      .onConflictDoUpdate({ target: [auditAgentHeads.tenantId, auditAgentHeads.agentId], set: row });
  }
  await tx.update(auditHeads).set({ size, lastLeafHash: prev, updatedAt: sql`now()` }).where(eq(auditHeads.tenantId, tenantId));
  return { first, size };
}

/**
 * Bulk inserts with a fixed number of parameters, one array per column through `unnest`: the
 * statement is the same for 1 or 10,000 rows (no per-row parameter binding, no parameter limit),
 * which is most of what separated an audited append from a plain INSERT (bench/audit).
 */
async function insertEntries(tx: Queryable, tenantId: string, rows: (typeof auditEntries.$inferInsert)[]): Promise<void> {
  if (!rows.length) return;
  const col = <T>(f: (r: (typeof rows)[number]) => T) => sql.param(rows.map(f));
  await tx.execute(sql`insert into ${auditEntries} (tenant_id, idx, kind, agent_id, canonical, leaf_hash, created_at)
    select ${tenantId}::uuid, t.idx, t.kind, t.agent_id, t.canonical, decode(t.leaf, 'hex'), t.created_at
    from unnest(${col((r) => r.idx)}::bigint[], ${col((r) => r.kind)}::text[], ${col((r) => r.agentId ?? null)}::uuid[],
      ${col((r) => r.canonical)}::text[], ${col((r) => Buffer.from(r.leafHash).toString("hex"))}::text[],
      ${col((r) => r.createdAt.toISOString())}::timestamptz[]) as t(idx, kind, agent_id, canonical, leaf, created_at)`);
}

async function insertNodes(tx: Queryable, tenantId: string, rows: { level: number; idx: number; hash: Uint8Array }[]): Promise<void> {
  if (!rows.length) return;
  const col = <T>(f: (r: (typeof rows)[number]) => T) => sql.param(rows.map(f));
  await tx.execute(sql`insert into ${auditNodes} (tenant_id, level, idx, hash)
    select ${tenantId}::uuid, t.level, t.idx, decode(t.hash, 'hex')
    from unnest(${col((r) => r.level)}::int[], ${col((r) => r.idx)}::bigint[], ${col((r) => Buffer.from(r.hash).toString("hex"))}::text[]) as t(level, idx, hash)`);
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

/** A NodeReader over committed nodes, for proofs and roots (one read per miss; see proof-reader.ts for batches). */
export function committedReader(tx: Queryable, tenantId: string): NodeReader {
  return onDemandReader(tx, tenantId);
}
