import { inclusionProof, type NodeReader } from "@kakunin/shared";
import type { Queryable } from "../db/index.ts";
import { fromCachedChunks, withChunks } from "./chunk-reader.ts";
import type { AuditNodeCache } from "./node-cache.ts";
import { fetchNodes, fromCache, type Wanted } from "./nodes.ts";

const ZERO = new Uint8Array(32);

/**
 * A reader that records which stored nodes a computation asks for and answers zeros. Which nodes
 * RFC 9162's root, PATH and PROOF algorithms read depends only on the sizes and indices, never on
 * the hashes, so a dry run over this reader lists exactly what the real run will read.
 */
function recorder(cache: ReadonlyMap<string, Uint8Array>, wanted: Wanted): NodeReader {
  return {
    get: async (level, index) => {
      const hit = cache.get(`${level}:${index}`);
      if (hit) return hit;
      let s = wanted.get(level);
      if (!s) wanted.set(level, (s = new Set()));
      s.add(index);
      return ZERO;
    },
  };
}

/**
 * Runs `compute` (roots, inclusion or consistency proofs, in any combination) over the stored
 * perfect subtrees with two database round trips (stored nodes, leaf tiles; nodes.ts) instead of
 * one per node: a dry run records the nodes it reads, they are fetched together, and the real run
 * reads them from memory. At a million entries a proof reads ~20 nodes and a root up to ~20 more;
 * this is what keeps GET /v1/audit/proofs/* near the cost of a couple of indexed queries.
 *
 * With `shared` (the services' AuditNodeCache; only with `db` outside a transaction), the nodes
 * come from whole chunks kept across requests (chunk-reader.ts): a warm tree answers from memory
 * with no dry run and no query; otherwise only the missing chunks are read.
 */
export async function withPrefetchedNodes<T>(
  db: Queryable,
  tenantId: string,
  compute: (reader: NodeReader) => Promise<T>,
  shared?: AuditNodeCache,
): Promise<T> {
  if (shared && shared.maxBytes > 0) {
    const warm = await fromCachedChunks(tenantId, shared, compute);
    if (warm) return warm.value;
  }
  const cache = new Map<string, Uint8Array>();
  const wanted: Wanted = new Map();
  await compute(recorder(cache, wanted));
  if (shared && shared.maxBytes > 0) return withChunks(db, tenantId, wanted, shared, compute);
  await fetchNodes(db, tenantId, wanted, cache);
  return compute(fromCache(cache, tenantId));
}

/**
 * Inclusion proofs for a page of leaves from the stored perfect subtrees, in a few queries instead
 * of one per node (the dry-run technique of withPrefetchedNodes, across a page). Memory is
 * bounded: the cache keeps what the last pages needed and is dropped when it outgrows
 * `maxCached`, so an export of a million entries holds a page's worth of nodes, not the tree.
 */
export class BatchProofReader {
  readonly #cache = new Map<string, Uint8Array>();

  constructor(
    private readonly db: Queryable,
    private readonly tenantId: string,
    private readonly size: number,
    private readonly maxCached = 20_000,
  ) {}

  /** Audit paths for `indices` in the tree of `size` leaves, in the order given. */
  async proofs(indices: readonly number[]): Promise<Uint8Array[][]> {
    if (this.#cache.size > this.maxCached) this.#cache.clear();
    const wanted: Wanted = new Map();
    const dry = recorder(this.#cache, wanted);
    for (const i of indices) await inclusionProof(i, this.size, dry);
    await fetchNodes(this.db, this.tenantId, wanted, this.#cache);
    const reader = fromCache(this.#cache, this.tenantId);
    const out: Uint8Array[][] = [];
    for (const i of indices) out.push(await inclusionProof(i, this.size, reader));
    return out;
  }
}
