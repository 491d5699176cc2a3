/**
 * Storage model: per log, the hash of every PERFECT subtree, addressed (level ℓ, index i) and
 * covering leaves [i·2^ℓ, (i+1)·2^ℓ). Level 0 holds the leaf hashes. A perfect subtree never
 * changes once complete, so nodes are write-once rows and any root or proof for any past size
 * is O(log n) reads — no node is ever rewritten as the log grows.
 */
import { HASH_SIZE, nodeHash } from "./hash.ts";

/** Read access to stored perfect-subtree hashes. Must throw if the node is missing. */
export interface NodeReader {
  get(level: number, index: number): Promise<Uint8Array>;
}

export interface TreeNode {
  level: number;
  index: number;
  hash: Uint8Array;
}

export function assertIndex(name: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative safe integer, got ${n}`);
}

export function assertHash(name: string, h: Uint8Array): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) throw new TypeError(`${name} must be ${HASH_SIZE} bytes`);
}

/**
 * The nodes that become complete when leaf `newLeafIndex` is appended, bottom-up: the leaf
 * itself at level 0, then its ancestor at level ℓ for every ℓ with 2^ℓ dividing newLeafIndex+1.
 * Each step's right child is the node just computed and its left sibling is already stored,
 * so the reader sees only nodes written by earlier appends. The caller stores the result.
 */
export async function completedNodes(newLeafIndex: number, leafHash: Uint8Array, reader: NodeReader): Promise<TreeNode[]> {
  assertIndex("newLeafIndex", newLeafIndex);
  assertHash("leafHash", leafHash);
  const out: TreeNode[] = [{ level: 0, index: newLeafIndex, hash: leafHash }];
  let index = newLeafIndex;
  let hash = leafHash;
  // Arithmetic, not bit operators: JS bitwise ops truncate to 32 bits.
  for (let level = 1; index % 2 === 1; level++) {
    const left = await reader.get(level - 1, index - 1);
    hash = await nodeHash(left, hash);
    index = (index - 1) / 2;
    out.push({ level, index, hash });
  }
  return out;
}

/** In-memory perfect-subtree store, for tests, evidence bundles and the offline CLI. */
export class MemoryNodeStore implements NodeReader {
  readonly #levels: Uint8Array[][] = [];

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#levels[0]?.length ?? 0;
  }

  async get(level: number, index: number): Promise<Uint8Array> {
    const hash = this.#levels[level]?.[index];
    if (!hash) throw new RangeError(`merkle node ${level}/${index} is not stored`);
    return hash;
  }

  /** Appends one leaf hash (already SHA-256(0x00 || data)); resolves to its index. */
  async append(leafHash: Uint8Array): Promise<number> {
    const index = this.size;
    const nodes = await completedNodes(index, leafHash, this);
    // Appends must be awaited one at a time; an interleaved one would claim the same index.
    if (this.size !== index) throw new Error("MemoryNodeStore.append called concurrently");
    for (const node of nodes) {
      const row = this.#levels[node.level] ?? (this.#levels[node.level] = []);
      row[node.index] = node.hash;
    }
    return index;
  }
}
