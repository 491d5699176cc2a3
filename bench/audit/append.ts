/**
 * Append throughput: the audit log (appendAudit: RFC 8785 canonical JSON, SHA-256 leaf, the
 * newly completed Merkle nodes, the head row locked and updated) against plain INSERTs of the
 * same rows into a scratch table with audit_entries' columns and indexes, no hashing, no nodes.
 * Both run in batches of 500 — one transaction per batch, as ingest delivers them.
 */
import { createHash } from "node:crypto";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { appendAudit } from "@kakunin/origin/audit/append";
import type { AuditItem } from "@kakunin/origin/audit/types";
import type { Db } from "@kakunin/origin/db/index";
import { eventBatch, newAgentId, rng } from "./rows.ts";

export interface Series {
  /** Entries written: `total`, unless the time budget ran out first. */
  entries: number;
  elapsedMs: number;
  /** Wall time of each batch's transaction. */
  batchMs: number[];
}

const SERIAL = "4a1b2c3d4e5f60718293a4b5c6d7e8f9";

/**
 * One timing loop for both sides, so they differ only in how a batch is written: the same rows
 * (same seed), the same batch sizes, one transaction per batch, the same time budget.
 */
async function timeBatches(total: number, batch: number, budgetMs: number, write: (n: number, items: AuditItem[], agentId: string) => Promise<unknown>): Promise<Series> {
  const agentId = newAgentId();
  const rand = rng(1);
  const batchMs: number[] = [];
  const start = performance.now();
  let n = 0;
  for (; n < total && performance.now() - start < budgetMs; n += batch) {
    const t = performance.now();
    await write(n, eventBatch(n, Math.min(batch, total - n), agentId, SERIAL, rand), agentId);
    batchMs.push(performance.now() - t);
  }
  return { entries: Math.min(n, total), elapsedMs: performance.now() - start, batchMs };
}

export type AppendFn = typeof appendAudit;

/** Series measured in several rounds, added up. */
export function addSeries(a: Series | undefined, b: Series): Series {
  return a ? { entries: a.entries + b.entries, elapsedMs: a.elapsedMs + b.elapsedMs, batchMs: [...a.batchMs, ...b.batchMs] } : b;
}

export function timeAudit(db: Db, tenantId: string, total: number, batch: number, budgetMs: number, append: AppendFn = appendAudit): Promise<Series> {
  return timeBatches(total, batch, budgetMs, (_n, items) => db.transaction((tx) => append(tx, tenantId, items)));
}

/**
 * Another commit's appendAudit (a tree made by before-tree.sh), loaded into this process: its own
 * copy of shared/ (canonicalisation, hashing) with node:crypto's SHA-256 installed, as its origin
 * does at start-up; the database, drizzle and the driver are this process's.
 */
export async function loadAppend(dir: string): Promise<AppendFn> {
  const shared = (await import(pathToFileURL(join(dir, "shared/src/index.ts")).href)) as { useSha256(f: (b: Uint8Array) => Uint8Array): void };
  shared.useSha256((b) => createHash("sha256").update(b).digest());
  return ((await import(pathToFileURL(join(dir, "origin/src/audit/append.ts")).href)) as { appendAudit: AppendFn }).appendAudit;
}

const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const ZERO_HASH = `'\\x${"00".repeat(32)}'::bytea`;

/** The scratch table: audit_entries' columns, primary key and indexes, without its append-only triggers. */
export async function createPlainTable(db: Db): Promise<void> {
  await db.execute(`create table bench_plain_entries (
    tenant_id uuid not null, idx bigint not null, kind text not null, agent_id uuid,
    canonical text not null, leaf_hash bytea not null, created_at timestamptz not null,
    primary key (tenant_id, idx))`);
  await db.execute("create index bench_plain_agent_idx on bench_plain_entries (tenant_id, agent_id, idx)");
  await db.execute("create index bench_plain_kind_idx on bench_plain_entries (tenant_id, kind, idx)");
}

/**
 * The same rows as plain INSERTs: the entry object is serialised with JSON.stringify (what a
 * non-audited store would keep), the leaf_hash column gets a constant, and no node is written.
 */
export function timePlain(db: Db, tenantId: string, total: number, batch: number, budgetMs: number, from = 0): Promise<Series> {
  return timeBatches(total, batch, budgetMs, (batchStart, items, agentId) => {
    const n = from + batchStart;
    const values = items.map((item, i) => {
      const at = item.at.toISOString();
      const canonical = JSON.stringify({ v: 1, log: tenantId, index: n + i, kind: item.kind, at, actor: item.actor, agent_id: agentId, data: item.data, prev: null });
      return `(${lit(tenantId)}, ${n + i}, ${lit(item.kind)}, ${lit(agentId)}, ${lit(canonical)}, ${ZERO_HASH}, ${lit(at)})`;
    });
    return db.transaction((tx) => tx.execute(`insert into bench_plain_entries values ${values.join(",")}`));
  });
}
