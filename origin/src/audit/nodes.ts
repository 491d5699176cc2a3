/**
 * Where the tenant's Merkle tree lives. RFC 9162 needs the hash of every perfect subtree
 * (level ℓ, index i) = leaves [i·2^ℓ, (i+1)·2^ℓ). Levels ≥ TILE_LEVEL are stored in audit_nodes,
 * write-once; levels below are not: a subtree of height < 4 is recomputed from at most 16 leaf
 * hashes, which audit_entries already holds (leaf_hash), read in one range scan of its primary key.
 * The same idea as transparency-dev/tessera's tiles: the log stores one node row per 16 entries
 * instead of two per entry, and a proof still costs a constant number of reads (one node query, one
 * leaf range), because which nodes a proof needs depends only on the indices.
 * Rows of levels 0–3 written before this layout stay where they are and are simply not read.
 */
import { and, between, eq, inArray, or, type SQL } from "drizzle-orm";
import { nodeHash, type NodeReader, type TreeNode } from "@kakunin/shared";
import type { Queryable } from "../db/index.ts";
import { auditEntries, auditNodes } from "../db/schema.ts";

export const TILE_LEVEL = 4;
/** Consecutive indices of one level read and cached together (node-cache.ts): a tile's 16 leaves. */
export const CHUNK = 16;

/** The nodes of a completed-node list that are stored (the rest are recomputed from leaves). */
export function storedOnly(nodes: TreeNode[]): TreeNode[] {
  return nodes.filter((n) => n.level >= TILE_LEVEL);
}

const key = (level: number, index: number) => `${level}:${index}`;

/** (level → indices) a computation asked for. */
export type Wanted = Map<number, Set<number>>;

/**
 * Fetches what `wanted` needs into `cache`: stored nodes by primary key in one statement per 1000,
 * and, for lower levels, the leaf hashes under them in one statement of merged ranges per 1000
 * ranges. Leaves go into the cache as level 0; `fromCache` hashes lower levels up from them.
 */
export async function fetchNodes(db: Queryable, tenantId: string, wanted: Wanted, cache: Map<string, Uint8Array>): Promise<void> {
  const nodeConds: SQL[] = [];
  const ranges: [number, number][] = [];
  for (const [level, set] of wanted) {
    if (level >= TILE_LEVEL) {
      const ids = [...set];
      for (let k = 0; k < ids.length; k += 1000) nodeConds.push(and(eq(auditNodes.level, level), inArray(auditNodes.idx, ids.slice(k, k + 1000)))!);
    } else {
      for (const i of set) ranges.push([i * 2 ** level, (i + 1) * 2 ** level - 1]);
    }
  }
  for (let k = 0; k < nodeConds.length; k += 8) {
    const rows = await db
      .select({ level: auditNodes.level, idx: auditNodes.idx, hash: auditNodes.hash })
      .from(auditNodes)
      .where(and(eq(auditNodes.tenantId, tenantId), or(...nodeConds.slice(k, k + 8))));
    for (const r of rows) cache.set(key(r.level, r.idx), r.hash);
  }
  const merged = mergeRanges(ranges);
  for (let k = 0; k < merged.length; k += 1000) {
    const rows = await db
      .select({ idx: auditEntries.idx, hash: auditEntries.leafHash })
      .from(auditEntries)
      .where(and(eq(auditEntries.tenantId, tenantId), or(...merged.slice(k, k + 1000).map(([a, b]) => between(auditEntries.idx, a, b)))));
    for (const r of rows) cache.set(key(0, r.idx), r.hash);
  }
}

function mergeRanges(ranges: [number, number][]): [number, number][] {
  ranges.sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const r of ranges) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/**
 * A reader over `cache`: stored nodes and leaves as fetched, lower levels hashed up from leaves
 * (and memoised). A node that is neither cached nor computable is missing: throw, never guess.
 */
export function fromCache(cache: Map<string, Uint8Array>, tenantId: string, fallback?: (level: number, index: number) => Promise<void>): NodeReader {
  const get = async (level: number, index: number): Promise<Uint8Array> => {
    const hit = cache.get(key(level, index));
    if (hit) return hit;
    const low = level < TILE_LEVEL;
    // On demand: one fetch for the whole tile of leaves under a low node, not one per leaf.
    if (fallback && !(low && level > 0 && cache.has(key(0, index * 2 ** level)))) await fallback(level, index);
    const again = cache.get(key(level, index));
    if (again) return again;
    if (low && level > 0) {
      const h = await nodeHash(await get(level - 1, 2 * index), await get(level - 1, 2 * index + 1));
      cache.set(key(level, index), h);
      return h;
    }
    throw new Error(`audit node ${level}/${index} missing for tenant ${tenantId}`);
  };
  return { get };
}

/**
 * A reader that fetches on demand, one node (or one tile of leaves) per miss: for appends, which
 * read at most one left sibling per level per batch, and for callers with no prefetch.
 */
export function onDemandReader(db: Queryable, tenantId: string, cache: Map<string, Uint8Array> = new Map()): NodeReader {
  return fromCache(cache, tenantId, async (level, index) => {
    const wanted: Wanted = new Map([[level, new Set([index])]]);
    await fetchNodes(db, tenantId, wanted, cache);
  });
}

/** A chunk of CHUNK consecutive indices of one level (level 0: leaves; else a stored level ≥ TILE_LEVEL). */
export interface ChunkRef {
  level: number;
  chunk: number;
}

/** A chunk as read: its 16 hashes and how many of them exist from its start. */
export interface ReadChunk extends ChunkRef {
  hashes: Uint8Array;
  count: number;
}

/**
 * Gathers node or leaf rows into chunks. A chunk at the right edge of the tree is partial, and a
 * gap is never filled in: `count` stops at the first index no row supplied.
 */
export class ChunkAssembler {
  readonly #chunks = new Map<string, { level: number; chunk: number; hashes: Uint8Array; seen: boolean[] }>();

  add(level: number, idx: number, hash: Uint8Array): void {
    const chunk = Math.floor(idx / CHUNK);
    const k = `${level}/${chunk}`;
    let c = this.#chunks.get(k);
    if (!c) this.#chunks.set(k, (c = { level, chunk, hashes: new Uint8Array(CHUNK * 32), seen: [] }));
    c.hashes.set(hash, (idx % CHUNK) * 32);
    c.seen[idx % CHUNK] = true;
  }

  /** The chunks, keyed `level/chunk`. */
  chunks(): Map<string, ReadChunk> {
    const result = new Map<string, ReadChunk>();
    for (const [k, c] of this.#chunks) {
      let count = 0;
      while (count < CHUNK && c.seen[count]) count++;
      result.set(k, { level: c.level, chunk: c.chunk, hashes: c.hashes, count });
    }
    return result;
  }
}

/** Reads whole chunks, stored nodes in one statement and leaves in another (per 500 chunks). */
export async function fetchChunks(db: Queryable, tenantId: string, refs: ChunkRef[]): Promise<Map<string, ReadChunk>> {
  const out = new ChunkAssembler();
  const nodes = refs.filter((r) => r.level >= TILE_LEVEL);
  const leaves = refs.filter((r) => r.level === 0).map((r): [number, number] => [r.chunk * CHUNK, r.chunk * CHUNK + CHUNK - 1]);
  for (let k = 0; k < nodes.length; k += 500) {
    const conds = nodes
      .slice(k, k + 500)
      .map((r) => and(eq(auditNodes.level, r.level), between(auditNodes.idx, r.chunk * CHUNK, r.chunk * CHUNK + CHUNK - 1))!);
    const rows = await db
      .select({ level: auditNodes.level, idx: auditNodes.idx, hash: auditNodes.hash })
      .from(auditNodes)
      .where(and(eq(auditNodes.tenantId, tenantId), or(...conds)));
    for (const r of rows) out.add(r.level, r.idx, r.hash);
  }
  const merged = mergeRanges(leaves);
  for (let k = 0; k < merged.length; k += 500) {
    const rows = await db
      .select({ idx: auditEntries.idx, hash: auditEntries.leafHash })
      .from(auditEntries)
      .where(and(eq(auditEntries.tenantId, tenantId), or(...merged.slice(k, k + 500).map(([a, b]) => between(auditEntries.idx, a, b)))));
    for (const r of rows) out.add(0, r.idx, r.hash);
  }
  return out.chunks();
}
