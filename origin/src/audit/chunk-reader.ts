/**
 * Proofs and roots over the shared node cache (node-cache.ts). A warm tree is read straight from
 * the cached chunks, with no dry run and no query; on the first chunk that is not there the run is
 * abandoned, and the cold path of proof-reader.ts takes over: a dry run lists the nodes, only the
 * missing chunks are read (one round trip per kind) and kept, and the run is repeated over the
 * chunks this request holds (so an eviction in between cannot make it miss again).
 */
import { nodeHash, type NodeReader } from "@kakunin/shared";
import type { Queryable } from "../db/index.ts";
import { chunkOf, type AuditNodeCache } from "./node-cache.ts";
import { warmInBackground } from "./node-warm.ts";
import { fetchChunks, TILE_LEVEL, type ChunkRef, type Wanted } from "./nodes.ts";

type Chunk = { readonly hashes: Uint8Array; readonly count: number };
type Lookup = (level: number, chunk: number, last: number) => Chunk | undefined;

/** Thrown by a reader whose chunk is not cached; never escapes withCachedNodes. */
class Miss extends Error {}

/**
 * A reader over chunks: stored levels and leaves by offset into their chunk, levels 1–3 hashed up
 * from the leaves of one tile (memoised for this reader). `onMissing` decides what a missing chunk
 * means: a Miss (try the cold path) or a missing node (an error, never a guess).
 */
function chunkReader(lookup: Lookup, onMissing: (level: number, index: number) => never): NodeReader {
  const low = new Map<string, Uint8Array>();
  const get = async (level: number, index: number): Promise<Uint8Array> => {
    if (level === 0 || level >= TILE_LEVEL) {
      const c = chunkOf(level, index);
      const hit = lookup(c.level, c.chunk, c.last);
      if (!hit) onMissing(level, index);
      return hit.hashes.subarray(c.last * 32, c.last * 32 + 32);
    }
    const key = `${level}:${index}`;
    let h = low.get(key);
    if (!h) low.set(key, (h = await nodeHash(await get(level - 1, 2 * index), await get(level - 1, 2 * index + 1))));
    return h;
  };
  return { get };
}

/** Runs `compute` from the cache alone; undefined when a chunk it needs is not cached. */
export async function fromCachedChunks<T>(
  tenantId: string,
  shared: AuditNodeCache,
  compute: (reader: NodeReader) => Promise<T>,
): Promise<{ value: T } | undefined> {
  const reader = chunkReader(
    (level, chunk, last) => shared.get(tenantId, level, chunk, last),
    () => {
      throw new Miss();
    },
  );
  try {
    return { value: await compute(reader) };
  } catch (e) {
    if (e instanceof Miss) return undefined;
    throw e;
  }
}

/**
 * The cold path: the chunks holding `wanted` (from a dry run), cached ones from `shared`, the rest
 * read now and kept; then `compute` over exactly these chunks. A node still absent does not exist
 * in the committed tree: an error, as without the cache.
 */
export async function withChunks<T>(
  db: Queryable,
  tenantId: string,
  wanted: Wanted,
  shared: AuditNodeCache,
  compute: (reader: NodeReader) => Promise<T>,
): Promise<T> {
  const need = new Map<string, ChunkRef & { last: number }>();
  for (const [level, set] of wanted) {
    for (const index of set) {
      const c = chunkOf(level, index);
      const k = `${c.level}/${c.chunk}`;
      const n = need.get(k);
      if (!n || n.last < c.last) need.set(k, c);
    }
  }
  const got = new Map<string, Chunk>();
  const missing: ChunkRef[] = [];
  for (const [k, c] of need) {
    const hit = shared.get(tenantId, c.level, c.chunk, c.last);
    if (hit) got.set(k, hit);
    else missing.push(c);
  }
  if (missing.length) {
    // A cold tree: load the rest of it in the background while this request reads what it needs.
    warmInBackground(db, tenantId, shared);
    for (const [k, c] of await fetchChunks(db, tenantId, missing)) {
      got.set(k, c);
      shared.put(tenantId, c.level, c.chunk, c.hashes, c.count);
    }
  }
  const reader = chunkReader(
    (level, chunk, last) => {
      const c = got.get(`${level}/${chunk}`);
      return c && c.count > last ? c : undefined;
    },
    (level, index) => {
      throw new Error(`audit node ${level}/${index} missing for tenant ${tenantId}`);
    },
  );
  return compute(reader);
}
