import { eq } from "drizzle-orm";
import { AGENT_ACTIVITY_KINDS, canonicalize } from "@kakunin/shared";
import type { NodeReader } from "@kakunin/shared";
import { onDemandReader } from "./nodes.ts";
import type { Queryable } from "../db/index.ts";
import { auditHeads } from "../db/schema.ts";
import { readAppendState, writeAppend, type AgentHead, type EntryRow } from "./append-statements.ts";
import { recall, remember } from "./append-memo.ts";
import { Frontier, leafHashOfText, type StoredNode } from "./frontier.ts";
import { hex } from "./hex.ts";
import type { AuditEntry, AuditItem } from "./types.ts";

/**
 * Appends entries to the tenant's log inside the caller's transaction, so an operation and its
 * audit entry commit together or not at all. The head row is locked for the transaction: appends
 * to one tenant's log are strictly ordered; other tenants are not blocked.
 *
 * Three statements whatever the batch size (plus BEGIN and COMMIT): lock the head, read the tree's right edge and the
 * agents' heads, then one write (append-statements.ts); two when this origin made the last
 * append to the log and already knows the agents (append-memo.ts). In between, everything is
 * synchronous: canonical JSON, SHA-256 of each leaf and of each node it completes (frontier.ts).
 */
export async function appendAudit(tx: Queryable, tenantId: string, given: AuditItem[]): Promise<{ first: number; size: number }> {
  // An agent's chain is keyed by the id's text: one spelled in upper case (a UUID is the same id in
  // any case, and the database agrees) would begin a second chain, and the agent's evidence would
  // never verify again. Routes take ids lower-cased (routes/openapi.ts uuidInput); this holds for
  // any other caller.
  const items = given.some((i) => i.agentId && /[A-F]/.test(i.agentId)) ? given.map((i) => (i.agentId ? { ...i, agentId: i.agentId.toLowerCase() } : i)) : given;
  const head = await lockHead(tx, tenantId);
  const first = head.size;
  if (items.length === 0) return { first, size: first };
  const agentIds = [...new Set(items.flatMap((i) => (i.agentId ? [i.agentId] : [])))];
  const lastHex = head.lastLeafHash ? hex(head.lastLeafHash) : null;
  const known = recall(tenantId, first, lastHex);
  const unknownAgents = known ? agentIds.filter((id) => !known.agents.has(id)) : agentIds;
  const state = !known || unknownAgents.length ? await readAppendState(tx, tenantId, first, unknownAgents, !known) : null;
  const frontier = known ? known.frontier : Frontier.fromStore(first, state!.stored, state!.tileLeaves);
  const agentHeads = new Map<string, AgentHead>();
  for (const id of agentIds) {
    agentHeads.set(id, known?.agents.get(id) ?? state?.agents.get(id) ?? { size: 0, last: null, lifecycleSize: 0, lastLifecycle: null });
  }
  const nodes: StoredNode[] = [];
  const entries: EntryRow[] = [];
  let prev: Uint8Array | null = head.lastLeafHash;
  for (const item of items) {
    const entry: AuditEntry = {
      v: 2, log: tenantId, index: frontier.size, kind: item.kind, at: item.at.toISOString(), actor: item.actor,
      agent_id: item.agentId ?? null, data: JSON.parse(JSON.stringify(item.data)) as Record<string, unknown>,
      prev: prev ? hex(prev) : null,
    };
    // An agent whose entries all predate audit entry v2 starts its chain at 0 here;
    // docs/evidence-format.md says what that means for old entries.
    const agentHead = item.agentId ? agentHeads.get(item.agentId)! : null;
    const lifecycle = !AGENT_ACTIVITY_KINDS.has(item.kind);
    if (agentHead) {
      entry.agent_seq = agentHead.size;
      entry.agent_prev = agentHead.last ? hex(agentHead.last) : null;
      entry.lifecycle_count = agentHead.lifecycleSize + (lifecycle ? 1 : 0);
      if (lifecycle) entry.lifecycle_prev = agentHead.lastLifecycle ? hex(agentHead.lastLifecycle) : null;
    }
    const canonical = canonicalize(entry);
    const leaf = leafHashOfText(canonical);
    if (agentHead) {
      agentHead.size++;
      agentHead.last = leaf;
      if (lifecycle) {
        agentHead.lifecycleSize++;
        agentHead.lastLifecycle = leaf;
      }
    }
    frontier.append(leaf, (n) => nodes.push(n));
    entries.push({ kind: item.kind, agentId: item.agentId ?? null, canonical, leaf, at: item.at });
    prev = leaf;
  }
  await writeAppend(tx, tenantId, first, entries, nodes, agentHeads);
  remember(tenantId, hex(prev!), frontier, agentHeads, known?.agents ?? null);
  return { first, size: frontier.size };
}

/**
 * The tenant's head row, locked until the transaction ends (created on the tenant's first append).
 * The lock orders every writer of this tenant's log and agent heads.
 */
async function lockHead(tx: Queryable, tenantId: string): Promise<{ size: number; lastLeafHash: Uint8Array | null }> {
  const lock = () => tx.select({ size: auditHeads.size, lastLeafHash: auditHeads.lastLeafHash }).from(auditHeads).where(eq(auditHeads.tenantId, tenantId)).for("update");
  const [row] = await lock();
  if (row) return row;
  await tx.insert(auditHeads).values({ tenantId }).onConflictDoNothing();
  const [created] = await lock();
  return created!;
}

/**
 * Takes the tenant's log lock for the rest of the transaction without appending: a caller that
 * must read the log and then append on what it read (an evidence export's stretch, then its
 * checkpoint) sees no other writer commit in between.
 */
export async function lockAuditLog(tx: Queryable, tenantId: string): Promise<void> {
  await lockHead(tx, tenantId);
}

/** A NodeReader over committed nodes, for proofs and roots (one read per miss; see proof-reader.ts for batches). */
export function committedReader(tx: Queryable, tenantId: string): NodeReader {
  return onDemandReader(tx, tenantId);
}
