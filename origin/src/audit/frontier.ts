/**
 * The right edge of a tenant's Merkle tree (a "compact range", as transparency-dev calls it): for
 * a tree of `size` leaves, the hash of the perfect subtree at level ℓ for every bit ℓ set in
 * `size`. They are exactly the left siblings the next appends combine with, so appending a batch
 * needs them and nothing else from the database, and every node it completes is computed here,
 * synchronously (node:crypto, no per-hash Promise or buffer copy).
 *
 * The nodes are the ones `completedNodes` (shared/src/merkle/store.ts) produces, bottom-up per
 * leaf; origin/test/audit-append-golden.test.ts pins the result against main's code.
 */
import { createHash } from "node:crypto";
import { TILE_LEVEL } from "./nodes.ts";

const LEAF = Buffer.of(0x00);
const NODE = Buffer.of(0x01);

/** RFC 9162 MTH({d}) = SHA-256(0x00 || d), over the UTF-8 of the canonical text as given. */
export function leafHashOfText(canonical: string): Buffer {
  return createHash("sha256").update(LEAF).update(canonical, "utf8").digest();
}

function nodeHashSync(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash("sha256").update(NODE).update(left).update(right).digest();
}

/** A stored node completed by an append (levels ≥ TILE_LEVEL; lower levels live in leaf tiles). */
export interface StoredNode {
  level: number;
  idx: number;
  hash: Uint8Array;
}

export class Frontier {
  /** hashes[ℓ]: the right-edge subtree of level ℓ, present iff bit ℓ of `size` is set. */
  readonly #hashes: (Uint8Array | undefined)[];
  #size: number;

  private constructor(size: number, hashes: (Uint8Array | undefined)[]) {
    this.#size = size;
    this.#hashes = hashes;
  }

  /**
   * The frontier of a tree of `size` leaves from what the database holds: `stored` must hold the
   * node (ℓ, idx) of every pair {@link storedNeeded} lists, and `tileLeaves` the leaf hashes of
   * [size − size mod 16, size) in order. A missing one is an error, never a guess.
   */
  static fromStore(size: number, stored: Map<string, Uint8Array>, tileLeaves: Uint8Array[]): Frontier {
    const tileStart = size - (size % 2 ** TILE_LEVEL);
    const hashes: (Uint8Array | undefined)[] = [];
    for (const [level, idx] of storedNeeded(size)) {
      const h = stored.get(`${level}:${idx}`);
      if (!h) throw new Error(`audit node ${level}/${idx} missing (log size ${size})`);
      hashes[level] = h;
    }
    if (tileLeaves.length !== size - tileStart) throw new Error(`audit leaves ${tileStart}..${size - 1} missing: ${tileLeaves.length} found`);
    // Within one tile the carries stop below TILE_LEVEL, so the stored levels are not touched.
    const f = new Frontier(tileStart, hashes);
    for (const leaf of tileLeaves) f.append(leaf, () => {});
    return f;
  }

  /** An independent copy (appends to it leave this one as it is). */
  clone(): Frontier {
    return new Frontier(this.#size, [...this.#hashes]);
  }

  get size(): number {
    return this.#size;
  }

  /** Appends leaf `size`; calls `store` with each completed node of level ≥ TILE_LEVEL. */
  append(leaf: Uint8Array, store: (node: StoredNode) => void): void {
    let hash = leaf;
    let index = this.#size;
    let level = 0;
    // Arithmetic, not bit operators: JS bitwise ops truncate to 32 bits.
    while (index % 2 === 1) {
      const left = this.#hashes[level];
      if (!left) throw new Error(`audit frontier has no level ${level} at size ${this.#size}`);
      this.#hashes[level] = undefined;
      hash = nodeHashSync(left, hash);
      index = (index - 1) / 2;
      level++;
      if (level >= TILE_LEVEL) store({ level, idx: index, hash });
    }
    this.#hashes[level] = hash;
    this.#size++;
  }
}

/** The stored nodes (level ≥ TILE_LEVEL, index) on the right edge of a tree of `size` leaves. */
export function storedNeeded(size: number): [number, number][] {
  const out: [number, number][] = [];
  for (let level = TILE_LEVEL; 2 ** level <= size; level++) {
    const above = Math.floor(size / 2 ** level);
    if (above % 2 === 1) out.push([level, above - 1]);
  }
  return out;
}
