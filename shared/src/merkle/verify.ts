/**
 * Proof verification exactly as RFC 9162 §2.1.3.2 and §2.1.4.2 write it. These take no
 * NodeReader: they are what an independent auditor runs with nothing but a signed tree head,
 * a leaf and a proof. Malformed input (wrong hash length, negative or fractional sizes) is a
 * failed verification, never an exception, so callers cannot mistake a throw for "not checked".
 */
import { bytesEqual, emptyRootHash, HASH_SIZE, nodeHash } from "./hash.ts";

function isSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function isHash(h: unknown): h is Uint8Array {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

// The RFC's "right-shift" on values up to 2^53: arithmetic, since JS bit operators truncate to 32 bits.
const shr = (x: number): number => Math.floor(x / 2);
const lsb = (x: number): boolean => x % 2 === 1;

/** RFC 9162 §2.1.3.2: does `proof` show leaf `leafHash` at `leafIndex` in the tree `root` of `size`? */
export async function verifyInclusion(
  leafIndex: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array,
): Promise<boolean> {
  if (!isSize(leafIndex) || !isSize(size) || !isHash(leafHash) || !isHash(root)) return false;
  if (!Array.isArray(proof) || !proof.every(isHash)) return false;
  // Step 1.
  if (leafIndex >= size) return false;
  // Steps 2–3.
  let fn = leafIndex;
  let sn = size - 1;
  let r: Uint8Array = leafHash;
  // Step 4.
  for (const p of proof) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      r = await nodeHash(p, r);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = shr(fn);
          sn = shr(sn);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = shr(fn);
    sn = shr(sn);
  }
  // Step 5.
  return sn === 0 && bytesEqual(r, root);
}

/**
 * RFC 9162 §2.1.4.2: is the tree `newRoot` of `newSize` an append-only extension of `oldRoot`
 * of `oldSize`? The RFC covers 0 < oldSize < newSize; at the edges we accept only the empty
 * proof: oldSize = newSize needs equal roots, oldSize = 0 needs oldRoot to be the empty-tree hash.
 */
export async function verifyConsistency(
  oldSize: number, newSize: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: readonly Uint8Array[],
): Promise<boolean> {
  if (!isSize(oldSize) || !isSize(newSize) || !isHash(oldRoot) || !isHash(newRoot)) return false;
  if (!Array.isArray(proof) || !proof.every(isHash)) return false;
  if (oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && bytesEqual(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0 && bytesEqual(oldRoot, await emptyRootHash());
  // Step 1.
  if (proof.length === 0) return false;
  // Step 2: a power-of-two old tree is a stored subtree of the new one, so the proof omits it.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : [...proof];
  // Step 3.
  let fn = oldSize - 1;
  let sn = newSize - 1;
  // Step 4.
  while (lsb(fn)) {
    fn = shr(fn);
    sn = shr(sn);
  }
  // Step 5.
  const first = path[0];
  if (!first) return false;
  let fr: Uint8Array = first;
  let sr: Uint8Array = first;
  // Step 6.
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = shr(fn);
          sn = shr(sn);
        }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = shr(fn);
    sn = shr(sn);
  }
  // Step 7.
  return bytesEqual(fr, oldRoot) && bytesEqual(sr, newRoot) && sn === 0;
}

function isPowerOfTwo(n: number): boolean {
  let p = 1;
  while (p < n) p *= 2;
  return p === n;
}
