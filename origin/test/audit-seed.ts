/**
 * Bulk-writes a large audit log for tests and benchmarks: `count` event entries of one agent,
 * valid audit entries v2 (hash chain, agent chain, stored perfect subtrees), inserted in chunks
 * straight into the tables instead of through appendAudit, which would take minutes per 100k.
 * Continues the tenant's log and the agent's chain from wherever they are.
 */
import { and, eq } from "drizzle-orm";
import { canonicalize, completedNodes, leafHash, toHex } from "@kakunin/shared";
import { onDemandReader, TILE_LEVEL } from "../src/audit/nodes.ts";
import type { Db } from "../src/db/index.ts";
import { auditAgentHeads, auditEntries, auditHeads, auditNodes } from "../src/db/schema.ts";

const enc = new TextEncoder();

export async function seedAgentEvents(db: Db, tenantId: string, agentId: string, serial: string, count: number, at = new Date()): Promise<void> {
  const [head] = await db.select().from(auditHeads).where(eq(auditHeads.tenantId, tenantId));
  const [agentHead] = await db.select().from(auditAgentHeads).where(and(eq(auditAgentHeads.tenantId, tenantId), eq(auditAgentHeads.agentId, agentId)));
  let size = head?.size ?? 0;
  let prev: Uint8Array | null = head?.lastLeafHash ?? null;
  let seq = agentHead?.size ?? 0;
  let agentPrev: Uint8Array | null = agentHead?.lastLeafHash ?? null;
  const lifecycle = agentHead?.lifecycleSize ?? 0;
  const fresh = new Map<string, Uint8Array>();
  // The origin's own layout (nodes.ts): levels below TILE_LEVEL are recomputed from leaves.
  const reader = onDemandReader(db, tenantId, fresh);
  const CHUNK = 2000;
  for (let done = 0; done < count; done += CHUNK) {
    const entries: (typeof auditEntries.$inferInsert)[] = [];
    const nodes: (typeof auditNodes.$inferInsert)[] = [];
    fresh.clear();
    for (let i = done; i < Math.min(count, done + CHUNK); i++) {
      const received = new Date(at.getTime() + i).toISOString();
      const canonical = canonicalize({
        v: 2, log: tenantId, index: size, kind: "event.ingested", at: received, actor: { type: "edge", id: "seed" }, agent_id: agentId,
        data: {
          event: { event_id: `seed-${i}`, timestamp: received, type: "transaction", action: "orders.place", amount: i % 1000, currency: "EUR", outcome: "success" },
          serial_number: serial, received_at: received, score: 0.1, band: "low",
        },
        prev: prev ? toHex(prev) : null, agent_seq: seq, agent_prev: agentPrev ? toHex(agentPrev) : null, lifecycle_count: lifecycle,
      });
      const leaf = await leafHash(enc.encode(canonical));
      for (const n of await completedNodes(size, leaf, reader)) {
        fresh.set(`${n.level}:${n.index}`, n.hash);
        if (n.level >= TILE_LEVEL) nodes.push({ tenantId, level: n.level, idx: n.index, hash: n.hash });
      }
      entries.push({ tenantId, idx: size, kind: "event.ingested", agentId, canonical, leafHash: leaf, createdAt: new Date(received) });
      prev = leaf;
      agentPrev = leaf;
      size++;
      seq++;
    }
    for (let k = 0; k < entries.length; k += 1000) await db.insert(auditEntries).values(entries.slice(k, k + 1000));
    for (let k = 0; k < nodes.length; k += 2000) await db.insert(auditNodes).values(nodes.slice(k, k + 2000));
  }
  await db.update(auditHeads).set({ size, lastLeafHash: prev }).where(eq(auditHeads.tenantId, tenantId));
  const row = { size: seq, lastLeafHash: agentPrev!, lifecycleSize: lifecycle, lastLifecycleLeafHash: agentHead?.lastLifecycleLeafHash ?? null };
  await db.insert(auditAgentHeads).values({ tenantId, agentId, ...row }).onConflictDoUpdate({ target: [auditAgentHeads.tenantId, auditAgentHeads.agentId], set: row });
}
