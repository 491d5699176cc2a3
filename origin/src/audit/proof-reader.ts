import { and, eq, inArray, or, type SQL } from "drizzle-orm";
import { inclusionProof, type NodeReader } from "@kakunin/shared";
import type { Queryable } from "../db/index.ts";
import { auditNodes } from "../db/schema.ts";

const ZERO = new Uint8Array(32);

/** (level → indices) a computation asked for. */
type Wanted = Map<number, Set<number>>;

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

function cached(cache: ReadonlyMap<string, Uint8Array>, tenantId: string): NodeReader {
  return {
    get: async (level, index) => {
      const hit = cache.get(`${level}:${index}`);
      if (!hit) throw new Error(`audit node ${level}/${index} missing for tenant ${tenantId}`);
      return hit;
    },
  };
}

/**
 * Fetches the wanted nodes into `cache` in one round trip per 1000 nodes: one statement whose
 * WHERE is an OR of `(level = ℓ AND idx IN (…))`, served by the primary key (tenant, level, idx).
 */
async function fetchNodes(db: Queryable, tenantId: string, wanted: Wanted, cache: Map<string, Uint8Array>): Promise<void> {
  let batch: SQL[] = [];
  let count = 0;
  const flush = async () => {
    if (!batch.length) return;
    const rows = await db.select({ level: auditNodes.level, idx: auditNodes.idx, hash: auditNodes.hash }).from(auditNodes)
      .where(and(eq(auditNodes.tenantId, tenantId), or(...batch)));
    for (const r of rows) cache.set(`${r.level}:${r.idx}`, r.hash);
    batch = [];
    count = 0;
  };
  for (const [level, set] of wanted) {
    const ids = [...set];
    for (let k = 0; k < ids.length; k += 1000) {
      const part = ids.slice(k, k + 1000);
      batch.push(and(eq(auditNodes.level, level), inArray(auditNodes.idx, part))!);
      count += part.length;
      if (count >= 1000) await flush();
    }
  }
  await flush();
}

/**
 * Runs `compute` (roots, inclusion or consistency proofs, in any combination) over the stored
 * perfect subtrees with ONE database round trip instead of one per node: a dry run records the
 * nodes it reads, they are fetched together, and the real run reads them from memory. At a
 * million entries a proof reads ~20 nodes and a root up to ~20 more; this is what keeps
 * GET /v1/audit/proofs/* near the cost of a single indexed query.
 */
export async function withPrefetchedNodes<T>(db: Queryable, tenantId: string, compute: (reader: NodeReader) => Promise<T>): Promise<T> {
  const cache = new Map<string, Uint8Array>();
  const wanted: Wanted = new Map();
  await compute(recorder(cache, wanted));
  await fetchNodes(db, tenantId, wanted, cache);
  return compute(cached(cache, tenantId));
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
    const reader = cached(this.#cache, this.tenantId);
    const out: Uint8Array[][] = [];
    for (const i of indices) out.push(await inclusionProof(i, this.size, reader));
    return out;
  }
}
