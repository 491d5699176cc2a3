/**
 * Tree heads and proofs from stored perfect subtrees, following RFC 9162 §2.1.1 (MTH),
 * §2.1.3.1 (PATH) and §2.1.4.1 (PROOF/SUBPROOF) literally, over ranges [start, start+n) of the
 * log instead of copied leaf lists. Every range the RFC recursion produces is either a perfect,
 * aligned subtree — one stored node, one read — or is split at the RFC's k and recursed into,
 * so a root or proof costs O(log n) reads and the output is byte-identical to the RFC's.
 */
import { emptyRootHash, nodeHash, splitPoint } from "./hash.ts";
import { assertIndex, type NodeReader } from "./store.ts";

/** MTH(D[start : start+n]) for n ≥ 1. */
async function rangeHash(start: number, n: number, reader: NodeReader): Promise<Uint8Array> {
  const level = exactLog2(n);
  if (level >= 0 && start % n === 0) return reader.get(level, start / n);
  const k = splitPoint(n);
  return nodeHash(await rangeHash(start, k, reader), await rangeHash(start + k, n - k, reader));
}

/** MTH(D[start : start+size]) for size ≥ 1: a node of the tree (multiproofs carry these). */
export function subtreeHash(start: number, size: number, reader: NodeReader): Promise<Uint8Array> {
  assertIndex("start", start);
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`size must be a positive safe integer, got ${size}`);
  return rangeHash(start, size, reader);
}

/** ℓ with 2^ℓ = n, or -1. A loop, not Math.log2: that rounds 2^52+1 to exactly 52. */
function exactLog2(n: number): number {
  let level = 0;
  for (let p = 1; p < n; p *= 2) level++;
  return 2 ** level === n ? level : -1;
}

/** MTH of the first `size` leaves (RFC 9162 §2.1.1); the empty tree hashes the empty string. */
export async function rootHash(size: number, reader: NodeReader): Promise<Uint8Array> {
  assertIndex("size", size);
  if (size === 0) return emptyRootHash();
  return rangeHash(0, size, reader);
}

/** PATH(m, D[n]) (RFC 9162 §2.1.3.1): sibling hashes from the leaf up to the root. */
export async function inclusionProof(leafIndex: number, size: number, reader: NodeReader): Promise<Uint8Array[]> {
  assertIndex("leafIndex", leafIndex);
  assertIndex("size", size);
  if (leafIndex >= size) throw new RangeError(`leafIndex ${leafIndex} is not in a tree of size ${size}`);
  return path(leafIndex, 0, size, reader);
}

// PATH(m, D[start : start+n]), m relative to start.
async function path(m: number, start: number, n: number, reader: NodeReader): Promise<Uint8Array[]> {
  if (n === 1) return [];
  const k = splitPoint(n);
  if (m < k) return [...(await path(m, start, k, reader)), await rangeHash(start + k, n - k, reader)];
  return [...(await path(m - k, start + k, n - k, reader)), await rangeHash(start, k, reader)];
}

/**
 * PROOF(m, D[n]) = SUBPROOF(m, D[n], true) (RFC 9162 §2.1.4.1). The RFC defines it for
 * 0 < m < n; for m = n the recursion yields the empty proof, and for m = 0 we also return the
 * empty proof (every tree extends the empty one) — verifyConsistency accepts both only with
 * an empty proof and matching roots.
 */
export async function consistencyProof(oldSize: number, newSize: number, reader: NodeReader): Promise<Uint8Array[]> {
  assertIndex("oldSize", oldSize);
  assertIndex("newSize", newSize);
  if (oldSize > newSize) throw new RangeError(`oldSize ${oldSize} exceeds newSize ${newSize}`);
  if (oldSize === 0) return [];
  return subproof(oldSize, 0, newSize, true, reader);
}

// SUBPROOF(m, D[start : start+n], b).
async function subproof(m: number, start: number, n: number, b: boolean, reader: NodeReader): Promise<Uint8Array[]> {
  // m = n: the old tree is this whole subtree. Its hash is omitted only when it is the old root
  // itself (b), which the verifier already has.
  if (m === n) return b ? [] : [await rangeHash(start, n, reader)];
  const k = splitPoint(n);
  if (m <= k) return [...(await subproof(m, start, k, b, reader)), await rangeHash(start + k, n - k, reader)];
  return [...(await subproof(m - k, start + k, n - k, false, reader)), await rangeHash(start, k, reader)];
}
