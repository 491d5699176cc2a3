/**
 * The multiproof of evidence bundles v3 (shared/src/merkle/multiproof.ts) against an independent
 * reference written from RFC 9162 §2.1.1 with node:crypto: the nodes the bundle carries for a set
 * of leaves must be exactly the minimal multiproof (the maximal subtrees without an included leaf,
 * left to right), the streaming verifier must accept them, and must refuse every change.
 */
import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { gapNodes, HASH_SIZE, leafHash, MemoryNodeStore, MultiproofVerifier } from "@kakunin/shared";

const sha = (...parts: Uint8Array[]): Buffer => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
};
const k2 = (n: number): number => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
const DATA = Array.from({ length: 140 }, (_, i) => Buffer.from(`entry ${i}`));
const mth = (lo: number, hi: number): Buffer =>
  hi - lo === 1 ? sha(Uint8Array.of(0), DATA[lo]!) : sha(Uint8Array.of(1), mth(lo, lo + k2(hi - lo)), mth(lo + k2(hi - lo), hi));
/** The minimal multiproof, by the RFC's recursion: a subtree with no included leaf is one node. */
const reference = (inc: Set<number>, lo: number, hi: number): Buffer[] => {
  let any = false;
  for (const i of inc) if (i >= lo && i < hi) any = true;
  if (!any) return [mth(lo, hi)];
  if (hi - lo === 1) return [];
  const k = k2(hi - lo);
  return [...reference(inc, lo, lo + k), ...reference(inc, lo + k, hi)];
};

const NODE = Uint8Array.of(1);
const hashNode = (l: Uint8Array, r: Uint8Array): Uint8Array => sha(NODE, l, r);
const store = new MemoryNodeStore();
beforeAll(async () => {
  for (const d of DATA) await store.append(await leafHash(d));
});

/** The bundle's items for leaves `inc` of the tree of size n: gap nodes (concatenated) and leaves. */
async function items(inc: number[], n: number): Promise<({ gap: Uint8Array; to: number } | { leaf: number })[]> {
  const out: ({ gap: Uint8Array; to: number } | { leaf: number })[] = [];
  let next = 0;
  for (const i of [...inc, n]) {
    if (i > next) out.push({ gap: await gapNodes(next, i, n, store), to: i });
    if (i < n) out.push({ leaf: i });
    next = i + 1;
  }
  return out;
}

/** Runs the streaming verifier over items; null when it verifies, else the first reason. */
async function verify(list: Awaited<ReturnType<typeof items>>, n: number, root: Uint8Array): Promise<string | null> {
  const v = new MultiproofVerifier(n, hashNode);
  let pending: Uint8Array | null = null;
  for (const it of list) {
    if ("gap" in it) pending = it.gap;
    else {
      const r = (await v.gap(pending, it.leaf, `before leaf ${it.leaf}`)) ?? (await v.leaf(it.leaf, mth(it.leaf, it.leaf + 1)));
      pending = null;
      if (r) return r;
    }
  }
  return (await v.gap(pending, n, "after the last leaf")) ?? v.finish(root);
}

function subsets(n: number): number[][] {
  const out: number[][] = [[0], [n - 1], Array.from({ length: n }, (_, i) => i)];
  let seed = n * 7919;
  for (let t = 0; t < 6; t++) {
    const s: number[] = [];
    for (let i = 0; i < n; i++) if (((seed = (seed * 1103515245 + 12345) % 2 ** 31) >> 8) % (t + 2) === 0) s.push(i);
    if (s.length) out.push(s);
  }
  return out;
}

describe("multiproof (kakunin-evidence/3) against the RFC 9162 reference", () => {
  it("carries exactly the minimal multiproof and verifies, for every size 1..140 and varied leaf sets", async () => {
    for (let n = 1; n <= 140; n++) {
      for (const inc of subsets(n)) {
        const list = await items(inc, n);
        const carried = Buffer.concat(list.flatMap((x) => ("gap" in x ? [x.gap] : [])));
        expect(carried.equals(Buffer.concat(reference(new Set(inc), 0, n))), `nodes for ${inc.length} leaves of ${n}`).toBe(true);
        expect(await verify(list, n, mth(0, n)), `verify ${inc.length} leaves of ${n}`).toBeNull();
      }
    }
  });

  it("refuses a changed node, a missing or extra node, a dropped or duplicated gap, reordered leaves, another tree size", async () => {
    for (const n of [2, 3, 7, 16, 33, 100, 128, 131]) {
      for (const inc of subsets(n)) {
        const list = await items(inc, n);
        const root = mth(0, n);
        const gaps = list.flatMap((x, at) => ("gap" in x ? [at] : []));
        for (const at of gaps) {
          const g = list[at] as { gap: Uint8Array; to: number };
          for (let byte = 0; byte < g.gap.length; byte += 29) {
            const gap = Uint8Array.from(g.gap);
            gap[byte]! ^= 1;
            expect(await verify(list.with(at, { ...g, gap }), n, root), `flip ${n}/${at}/${byte}`).not.toBeNull();
          }
          expect(await verify(list.with(at, { ...g, gap: g.gap.subarray(HASH_SIZE) }), n, root), `missing node ${n}/${at}`).toMatch(/needs/);
          const extra = Buffer.concat([g.gap, g.gap.subarray(0, HASH_SIZE)]);
          expect(await verify(list.with(at, { ...g, gap: extra }), n, root), `extra node ${n}/${at}`).toMatch(/needs/);
          expect(await verify(list.toSpliced(at, 1), n, root), `dropped gap ${n}/${at}`).not.toBeNull();
        }
        if (inc.length > 1) {
          const leaves = list.flatMap((x, at) => ("leaf" in x ? [at] : []));
          const [a, b] = [leaves[0]!, leaves[1]!];
          const swapped = list.with(a, list[b]!).with(b, list[a]!);
          expect(await verify(swapped, n, root), `swapped leaves ${n}`).not.toBeNull();
          expect(await verify(list.toSpliced(b, 0, list[a]!), n, root), `duplicated leaf ${n}`).not.toBeNull();
        }
        // An unused node after the tree is complete (the last leaf is the last of the tree).
        if (inc.at(-1) === n - 1) expect(await verify([...list, { gap: root, to: n }], n, root), `node after the end ${n}`).toMatch(/needs no proof nodes/);
        // The same items against the next tree size's root, and the next size's proof against this root.
        if (n < 140) {
          expect(await verify(list, n + 1, mth(0, n + 1)), `other size ${n}`).not.toBeNull();
          expect(await verify(await items(inc, n + 1), n + 1, root), `proof of size ${n + 1} for ${n}`).not.toBeNull();
        }
      }
    }
  });

  it("a leaf set with no leaf is the root alone; a leaf beyond the tree is refused", async () => {
    const v = new MultiproofVerifier(5, hashNode);
    expect(await v.gap(mth(0, 5), 5, "all")).toBeNull();
    expect(v.finish(mth(0, 5))).toBeNull();
    const w = new MultiproofVerifier(5, hashNode);
    expect(await w.gap(await gapNodes(0, 5, 5, store), 5, "x")).toBeNull();
    expect(await w.leaf(5, mth(4, 5))).toMatch(/not in the tree of size 5/);
  });
});
