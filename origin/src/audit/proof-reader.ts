import { and, eq, inArray } from "drizzle-orm";
import { inclusionProof, type NodeReader } from "@kakunin/shared";
import type { Queryable } from "../db/index.ts";
import { auditNodes } from "../db/schema.ts";

const ZERO = new Uint8Array(32);

/**
 * Inclusion proofs for a page of leaves from the stored perfect subtrees, in a few queries instead
 * of one per node: a first pass runs the proof algorithm over a reader that only records which
 * (level, index) nodes it asks for (which nodes a proof reads depends on the indices, never on the
 * hashes), then those are fetched per level in one `IN` query each, then the real pass reads them
 * from memory. Memory is bounded: the cache keeps what the last pages needed and is dropped when it
 * outgrows `maxCached`, so an export of a million entries holds a page's worth of nodes, not the tree.
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
    const wanted = new Map<number, Set<number>>();
    const recorder: NodeReader = {
      get: async (level, index) => {
        const hit = this.#cache.get(`${level}:${index}`);
        if (hit) return hit;
        let s = wanted.get(level);
        if (!s) wanted.set(level, (s = new Set()));
        s.add(index);
        return ZERO;
      },
    };
    for (const i of indices) await inclusionProof(i, this.size, recorder);
    for (const [level, set] of wanted) {
      const ids = [...set];
      for (let k = 0; k < ids.length; k += 1000) {
        const rows = await this.db.select({ idx: auditNodes.idx, hash: auditNodes.hash }).from(auditNodes)
          .where(and(eq(auditNodes.tenantId, this.tenantId), eq(auditNodes.level, level), inArray(auditNodes.idx, ids.slice(k, k + 1000))));
        for (const r of rows) this.#cache.set(`${level}:${r.idx}`, r.hash);
      }
    }
    const reader: NodeReader = {
      get: async (level, index) => {
        const hit = this.#cache.get(`${level}:${index}`);
        if (!hit) throw new Error(`audit node ${level}/${index} missing for tenant ${this.tenantId}`);
        return hit;
      },
    };
    const out: Uint8Array[][] = [];
    for (const i of indices) out.push(await inclusionProof(i, this.size, reader));
    return out;
  }
}
