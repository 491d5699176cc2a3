/**
 * An in-process cache of the tenant trees' write-once data, shared by the proof routes, tree heads
 * and `since_size` (proof-reader.ts). The log is append-only: once committed, a leaf hash and the
 * hash of a perfect subtree never change, so cached values need no invalidation, only a memory
 * bound. Other origins on the same database append to the same trees; what they commit later is
 * new data that this cache simply does not hold yet (a miss), never a change to what it holds.
 *
 * What is cached is the stored layout (nodes.ts) in chunks of 16 consecutive indices of one level:
 * level 0 (16 leaf hashes, one tile) and every stored level ≥ TILE_LEVEL. Levels 1–3 are hashed up
 * from a level-0 chunk when read. A chunk at the right edge of a tree is cached with the prefix
 * that exists (`count`); asking for an index past it is a miss and reloads the chunk.
 *
 * Only values read outside any transaction may be put here (committed data): callers pass the
 * services' `db`, never a `tx` (an append's own uncommitted nodes could still roll back).
 */
import { CHUNK, TILE_LEVEL } from "./nodes.ts";

/**
 * Bytes per cached chunk, as measured (bench/audit: heap + ArrayBuffers grew 61.6 MiB for 70,322
 * chunks of a 1M-entry tree, ~918 bytes each): 16 × 32 hash bytes plus the typed array, its
 * backing store, the chunk object and the Map entry. The bound counts this, not just the hashes.
 */
export const CHUNK_COST = 16 * 32 + 408;

const MAX_ROOTS = 4096;

interface Chunk {
  hashes: Uint8Array;
  /** Indices chunk·16 … chunk·16 + count − 1 are present. */
  count: number;
}

/** (level, chunk index) of the chunk holding node (level, index); levels < TILE_LEVEL map to leaves. */
export function chunkOf(level: number, index: number): { level: number; chunk: number; last: number } {
  if (level >= TILE_LEVEL) return { level, chunk: Math.floor(index / CHUNK), last: index % CHUNK };
  const first = index * 2 ** level;
  return { level: 0, chunk: Math.floor(first / CHUNK), last: (first % CHUNK) + 2 ** level - 1 };
}

/** A chunk's key inside its tenant's map: numeric, so a hit builds no string (level < 64). */
const keyOf = (level: number, chunk: number) => chunk * 64 + level;

export class AuditNodeCache {
  /** Per tenant, chunks in least-recently-used order; tenants in least-recently-used order too. */
  readonly #tenants = new Map<string, Map<number, Chunk>>();
  #count = 0;
  #lastTenant = "";
  readonly #maxChunks: number;
  readonly #warmed = new Map<string, number>();
  readonly #roots = new Map<string, Uint8Array>();
  hits = 0;
  misses = 0;
  warmFailures = 0;

  /** `maxBytes` bounds the memory (estimated with CHUNK_COST); 0 caches nothing. */
  constructor(readonly maxBytes: number) {
    this.#maxChunks = Math.floor(maxBytes / CHUNK_COST);
  }

  /** Chunks held, all tenants. */
  get size(): number {
    return this.#count;
  }

  /** A chunk if it holds at least `last` + 1 hashes (touching it: the least recently used goes first). */
  get(tenantId: string, level: number, chunk: number, last: number): Readonly<Chunk> | undefined {
    const t = this.#tenant(tenantId, false);
    const key = keyOf(level, chunk);
    const c = t?.get(key);
    if (!t || !c || c.count <= last) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    t.delete(key);
    t.set(key, c);
    return c;
  }

  /** The tenant's map, touched (most recently used) unless it already was the last one used. */
  #tenant(tenantId: string, create: boolean): Map<number, Chunk> | undefined {
    let t = this.#tenants.get(tenantId);
    if (!t && !create) return undefined;
    if (!t) this.#tenants.set(tenantId, (t = new Map()));
    else if (this.#lastTenant !== tenantId) {
      this.#tenants.delete(tenantId);
      this.#tenants.set(tenantId, t);
    }
    this.#lastTenant = tenantId;
    return t;
  }

  /** The root of the tenant's tree at `size`, if computed before (roots of committed sizes never change). */
  root(tenantId: string, size: number): Uint8Array | undefined {
    return this.#roots.get(`${tenantId}/${size}`);
  }

  /** Remembers a root computed from committed nodes (at most MAX_ROOTS, oldest first out). */
  putRoot(tenantId: string, size: number, root: Uint8Array): void {
    if (this.#maxChunks === 0) return;
    this.#roots.set(`${tenantId}/${size}`, root);
    if (this.#roots.size > MAX_ROOTS) this.#roots.delete(this.#roots.keys().next().value!);
  }

  /** True (and remembered) when the tenant's tree was not warmed in the last `everyMs` (node-warm.ts). */
  claimWarm(tenantId: string, now: number, everyMs: number): boolean {
    if (this.#maxChunks === 0) return false;
    const last = this.#warmed.get(tenantId);
    if (last !== undefined && now - last < everyMs && now >= last) return false;
    this.#warmed.delete(tenantId);
    this.#warmed.set(tenantId, now);
    if (this.#warmed.size > 10_000) this.#warmed.delete(this.#warmed.keys().next().value!);
    return true;
  }

  /**
   * Stores the first `count` hashes of a chunk (committed values only; see the file comment). Over
   * the bound, the least recently used chunk of the least recently used tenant goes first.
   */
  put(tenantId: string, level: number, chunk: number, hashes: Uint8Array, count: number): void {
    if (this.#maxChunks === 0 || count === 0) return;
    const t = this.#tenant(tenantId, true)!;
    const key = keyOf(level, chunk);
    const old = t.get(key);
    if (old && old.count >= count) return;
    if (old) t.delete(key);
    else this.#count++;
    t.set(key, { hashes, count });
    while (this.#count > this.#maxChunks) {
      const [oldestTenant, chunks] = this.#tenants.entries().next().value!;
      chunks.delete(chunks.keys().next().value!);
      this.#count--;
      if (chunks.size === 0) this.#tenants.delete(oldestTenant);
    }
  }
}
