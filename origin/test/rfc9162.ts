import { createHash } from "node:crypto";

/**
 * An independent RFC 9162 §2.1.3.2 / §2.1.4.2 verifier for tests, written from the RFC text with
 * node:crypto — deliberately not the production code in shared/merkle.
 */
const h = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
export const leaf = (data: Buffer) => h(Buffer.from([0]), data);
const node = (l: Buffer, r: Buffer) => h(Buffer.from([1]), l, r);

export function verifyInclusionRfc(index: number, size: number, leafHash: Buffer, path: Buffer[], root: Buffer): boolean {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      r = node(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

export function verifyConsistencyRfc(first: number, second: number, firstRoot: Buffer, secondRoot: Buffer, proof: Buffer[]): boolean {
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (first === 0 || first > second || proof.length === 0) return false;
  let path = proof;
  if ((first & (first - 1)) === 0) path = [firstRoot, ...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
    } else {
      sr = node(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}

/**
 * The root a kakunin-evidence/3 multiproof leads to, by RFC 9162 §2.1.1's recursion: `leaves`
 * maps the included leaf indices to their hashes, `nodes` are the proof hashes in the order the
 * bundle lists them; a subtree without an included leaf takes the next node. Null when the nodes
 * run out or some are left over.
 */
export function rootFromMultiproofRfc(size: number, leaves: Map<number, Buffer>, nodes: Buffer[]): Buffer | null {
  let next = 0;
  const k2 = (n: number) => { let k = 1; while (k * 2 < n) k *= 2; return k; };
  const mth = (lo: number, hi: number): Buffer | null => {
    if (![...leaves.keys()].some((i) => i >= lo && i < hi)) return nodes[next++] ?? null;
    if (hi - lo === 1) return leaves.get(lo)!;
    const k = k2(hi - lo);
    const l = mth(lo, lo + k);
    const r = mth(lo + k, hi);
    return l && r ? node(l, r) : null;
  };
  const root = mth(0, size);
  return next === nodes.length ? root : null;
}
