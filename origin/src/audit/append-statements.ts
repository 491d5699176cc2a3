/**
 * The statements of one append, after the head row is locked: one read (the tree's right edge and
 * the batch's agent heads) and one write (entries, nodes, agent heads, the head), whatever the
 * batch size. Before, an append of 500 entries made ~14 round trips (a query per missing left
 * sibling, per agent head, per table); the rows written are the same.
 *
 * Parameters are a fixed number of arrays (no per-row binding, no parameter limit). The canonical
 * texts travel as ONE text joined by U+001E and split by string_to_array: RFC 8785 text never
 * holds a raw control character (JSON escapes them all), and a text[] literal would have the
 * driver backslash-escape every quote of every entry and the server unescape them again, which
 * measured as much as all the hashing (bench/README.md, "Audit"). Hashes travel as one hex string
 * per column, cut by substring.
 */
import { sql } from "drizzle-orm";
import { rowsOfResult, type Queryable } from "../db/index.ts";
import { auditAgentHeads, auditEntries, auditHeads, auditNodes } from "../db/schema.ts";
import { storedNeeded, type StoredNode } from "./frontier.ts";
import { hex } from "./hex.ts";
import { TILE_LEVEL } from "./nodes.ts";

const SEP = "\u001e";
const bytes = (h: string) => new Uint8Array(Buffer.from(h, "hex"));

export interface AgentHead {
  size: number;
  last: Uint8Array | null;
  lifecycleSize: number;
  lastLifecycle: Uint8Array | null;
}

/** What an append reads under the head lock: the right edge of the tree and the agents' heads. */
export interface AppendState {
  stored: Map<string, Uint8Array>;
  tileLeaves: Uint8Array[];
  agents: Map<string, AgentHead>;
}

/**
 * One statement; must run after the head row is locked (READ COMMITTED: a fresh snapshot).
 * Without `edge`, only the agents' heads (the caller remembers the right edge: append-memo.ts).
 */
export async function readAppendState(tx: Queryable, tenantId: string, size: number, agentIds: string[], edge = true): Promise<AppendState> {
  const needed = edge ? storedNeeded(size) : [];
  const tileStart = edge ? size - (size % 2 ** TILE_LEVEL) : size;
  const result = await tx.execute(sql`
    select 0 as k, n.level, n.idx, encode(n.hash, 'hex') as hash, null::uuid as agent_id, null::bigint as lsize, null::text as lhash
      from ${auditNodes} n join unnest(${sql.param(needed.map((x) => x[0]))}::int[], ${sql.param(needed.map((x) => x[1]))}::bigint[]) as w(level, idx)
        on n.level = w.level and n.idx = w.idx
      where n.tenant_id = ${tenantId}
    union all
    select 1, 0, e.idx, encode(e.leaf_hash, 'hex'), null, null, null
      from ${auditEntries} e where e.tenant_id = ${tenantId} and e.idx >= ${tileStart} and e.idx < ${size}
    union all
    select 2, 0, h.size, encode(h.last_leaf_hash, 'hex'), h.agent_id, h.lifecycle_size, encode(h.last_lifecycle_leaf_hash, 'hex')
      from ${auditAgentHeads} h where h.tenant_id = ${tenantId} and h.agent_id = any(${sql.param(agentIds)}::uuid[])`);
  const rows = rowsOfResult<{
    k: number;
    level: number;
    idx: number | string;
    hash: string;
    agent_id: string | null;
    lsize: number | string | null;
    lhash: string | null;
  }>(result);
  const stored = new Map<string, Uint8Array>();
  const leaves: { idx: number; hash: Uint8Array }[] = [];
  const agents = new Map<string, AgentHead>();
  for (const r of rows) {
    if (Number(r.k) === 0) stored.set(`${r.level}:${Number(r.idx)}`, bytes(r.hash));
    else if (Number(r.k) === 1) leaves.push({ idx: Number(r.idx), hash: bytes(r.hash) });
    else
      agents.set(r.agent_id!, {
        size: Number(r.idx),
        last: bytes(r.hash),
        lifecycleSize: Number(r.lsize),
        lastLifecycle: r.lhash === null ? null : bytes(r.lhash),
      });
  }
  leaves.sort((a, b) => a.idx - b.idx);
  return { stored, tileLeaves: leaves.map((l) => l.hash), agents };
}

export interface EntryRow {
  kind: string;
  agentId: string | null;
  canonical: string;
  leaf: Uint8Array;
  at: Date;
}

/** Entries from index `first`, the nodes they completed, the agents' and the log's new heads: one statement. */
export async function writeAppend(
  tx: Queryable,
  tenantId: string,
  first: number,
  entries: EntryRow[],
  nodes: StoredNode[],
  agents: Map<string, AgentHead>,
): Promise<void> {
  const canonical = entries.map((e) => e.canonical).join(SEP);
  // Cannot happen (see above); checked because a stray separator would shift every later entry.
  if (countOf(canonical, SEP) !== entries.length - 1) throw new Error("a canonical audit entry holds U+001E");
  const heads = [...agents];
  const p = sql.param;
  const last = entries[entries.length - 1]!.leaf;
  await tx.execute(sql`
    with e as (
      insert into ${auditEntries} (tenant_id, idx, kind, agent_id, canonical, leaf_hash, created_at)
      select ${tenantId}::uuid, ${first}::bigint + t.o - 1, t.kind, t.agent_id, t.canonical, substring(l.b from (t.o::int - 1) * 32 + 1 for 32), t.created_at
      from (select decode(${hexJoin(entries.map((x) => x.leaf))}::text, 'hex') as b) l,
        unnest(${p(entries.map((x) => x.kind))}::text[], ${p(entries.map((x) => x.agentId))}::uuid[], string_to_array(${canonical}::text, chr(30)),
          ${p(entries.map((x) => x.at.toISOString()))}::timestamptz[]) with ordinality as t(kind, agent_id, canonical, created_at, o)
    ), n as (
      insert into ${auditNodes} (tenant_id, level, idx, hash)
      select ${tenantId}::uuid, t.level, t.idx, substring(h.b from (t.o::int - 1) * 32 + 1 for 32)
      from (select decode(${hexJoin(nodes.map((x) => x.hash))}::text, 'hex') as b) h,
        unnest(${p(nodes.map((x) => x.level))}::int[], ${p(nodes.map((x) => x.idx))}::bigint[]) with ordinality as t(level, idx, o)
    ), a as (
      insert into ${auditAgentHeads} (tenant_id, agent_id, size, last_leaf_hash, lifecycle_size, last_lifecycle_leaf_hash)
      select ${tenantId}::uuid, t.agent_id, t.size, decode(t.last, 'hex'), t.lsize, decode(t.llast, 'hex')
      from unnest(${p(heads.map(([id]) => id))}::uuid[], ${p(heads.map(([, h]) => h.size))}::bigint[], ${p(heads.map(([, h]) => hex(h.last!)))}::text[],
        ${p(heads.map(([, h]) => h.lifecycleSize))}::bigint[], ${p(heads.map(([, h]) => (h.lastLifecycle ? hex(h.lastLifecycle) : null)))}::text[]) as t(agent_id, size, last, lsize, llast)
      on conflict (tenant_id, agent_id) do update set size = excluded.size, last_leaf_hash = excluded.last_leaf_hash,
        lifecycle_size = excluded.lifecycle_size, last_lifecycle_leaf_hash = excluded.last_lifecycle_leaf_hash
    )
    update ${auditHeads} set size = ${first + entries.length}, last_leaf_hash = decode(${hex(last)}, 'hex'), updated_at = now()
    where tenant_id = ${tenantId}`);
}

function hexJoin(hashes: Uint8Array[]): string {
  return Buffer.concat(hashes).toString("hex");
}

function countOf(s: string, c: string): number {
  let n = 0;
  for (let i = s.indexOf(c); i !== -1; i = s.indexOf(c, i + 1)) n++;
  return n;
}
