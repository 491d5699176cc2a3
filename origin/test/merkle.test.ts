import { createHash } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import {
  completedNodes, consistencyProof, inclusionProof, leafHash, MemoryNodeStore, nodeHash, rootHash,
  verifyConsistency, verifyInclusion, type NodeReader,
} from "@kakunin/shared";

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString("hex");
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
const flip = (b: Uint8Array, bit: number): Uint8Array => {
  const c = Uint8Array.from(b);
  c[bit >> 3] = (c[bit >> 3] ?? 0) ^ (1 << (bit & 7));
  return c;
};

// ---- Independent reference: RFC 9162 §2.1 read literally, over the full input list D. ----
// Synchronous node:crypto rather than Web Crypto, so the two share no hashing code. MTH results
// are memoised per range only to keep the exhaustive sweep fast; the recursion is the RFC's.
function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}
function largestPow2Below(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
class Reference {
  readonly #memo = new Map<string, Uint8Array>();
  constructor(readonly d: Uint8Array[]) {}
  /** MTH(D[lo:hi]). */
  mth(lo: number, hi: number): Uint8Array {
    const key = `${lo}:${hi}`;
    let h = this.#memo.get(key);
    if (!h) {
      const n = hi - lo;
      if (n === 0) h = sha256();
      else if (n === 1) h = sha256(Uint8Array.of(0), this.d[lo]!);
      else {
        const k = largestPow2Below(n);
        h = sha256(Uint8Array.of(1), this.mth(lo, lo + k), this.mth(lo + k, hi));
      }
      this.#memo.set(key, h);
    }
    return h;
  }
  /** PATH(m, D[lo:hi]). */
  path(m: number, lo: number, hi: number): Uint8Array[] {
    const n = hi - lo;
    if (n === 1) return [];
    const k = largestPow2Below(n);
    if (m < k) return [...this.path(m, lo, lo + k), this.mth(lo + k, hi)];
    return [...this.path(m - k, lo + k, hi), this.mth(lo, lo + k)];
  }
  /** SUBPROOF(m, D[lo:hi], b). */
  subproof(m: number, lo: number, hi: number, b: boolean): Uint8Array[] {
    const n = hi - lo;
    if (m === n) return b ? [] : [this.mth(lo, hi)];
    const k = largestPow2Below(n);
    if (m <= k) return [...this.subproof(m, lo, lo + k, b), this.mth(lo + k, hi)];
    return [...this.subproof(m - k, lo + k, hi, false), this.mth(lo, lo + k)];
  }
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
// Web Crypto digests in Node run on the libuv pool (~35 µs each, mostly the hop), so independent
// cases run concurrently to keep the exhaustive sweep to seconds.
const each = async (xs: number[], f: (x: number) => Promise<void>): Promise<void> => {
  await Promise.all(xs.map(f));
};

const MAX = 130;
const DATA = Array.from({ length: MAX }, (_, i) => new TextEncoder().encode(`entry ${i}`));
const ref = new Reference(DATA);
const leaf = (i: number): Uint8Array => ref.mth(i, i + 1);
const store = new MemoryNodeStore();
const roots: Uint8Array[] = [];

beforeAll(async () => {
  for (const d of DATA) await store.append(await leafHash(d));
  for (let n = 0; n <= MAX; n++) roots.push(await rootHash(n, store));
});

describe("merkle tree against the RFC 9162 reference, sizes 1..130", () => {
  it("leaf hashes and roots match for every size", async () => {
    expect(store.size).toBe(MAX);
    for (let i = 0; i < MAX; i++) expect(hex(await store.get(0, i))).toBe(hex(leaf(i)));
    for (let n = 0; n <= MAX; n++) expect(hex(roots[n]!), `size ${n}`).toBe(hex(ref.mth(0, n)));
  });

  it("inclusion proofs are byte-equal to PATH and verify, for every size and index", async () => {
    for (let n = 1; n <= MAX; n++) {
      await each(range(0, n), async (m) => {
        const proof = await inclusionProof(m, n, store);
        expect(proof.map(hex), `PATH(${m}, ${n})`).toEqual(ref.path(m, 0, n).map(hex));
        expect(await verifyInclusion(m, n, leaf(m), proof, roots[n]!), `verify ${m}/${n}`).toBe(true);
      });
    }
  });

  it("consistency proofs are byte-equal to PROOF and verify, for every old and new size", async () => {
    for (let n = 1; n <= MAX; n++) {
      await each(range(1, n + 1), async (m) => {
        const proof = await consistencyProof(m, n, store);
        expect(proof.map(hex), `PROOF(${m}, ${n})`).toEqual(ref.subproof(m, 0, n, true).map(hex));
        expect(await verifyConsistency(m, n, roots[m]!, roots[n]!, proof), `verify ${m}→${n}`).toBe(true);
      });
      expect(await consistencyProof(0, n, store)).toEqual([]);
      expect(await verifyConsistency(0, n, roots[0]!, roots[n]!, [])).toBe(true);
    }
  });
});

const same = (a: Uint8Array[], b: Uint8Array[]): boolean => a.length === b.length && a.every((x, i) => hex(x) === hex(b[i]!));
const junk = unhex("ab".repeat(32));
// Every old size for small trees; for larger ones the shapes that matter (edges, powers of two, middle).
const sample = (n: number, all: number): number[] =>
  n <= all ? Array.from({ length: n }, (_, i) => i) : [...new Set([0, 1, 2, n >> 1, n - 2, n - 1, 31, 32, 63, 64, 127])].filter((i) => i >= 0 && i < n);

describe("verifiers reject tampered input", () => {
  it("inclusion: flipped leaf/proof/root bits, wrong index, wrong size, truncated or extended proofs", async () => {
    const reject = async (m: number, n: number, l: Uint8Array, p: Uint8Array[], r: Uint8Array, why: string): Promise<void> => {
      expect(await verifyInclusion(m, n, l, p, r), why).toBe(false);
    };
    for (let n = 1; n <= MAX; n++) {
      await each(sample(n, 24), async (m) => {
        const proof = ref.path(m, 0, n);
        const at = `${m}/${n}`;
        await reject(m, n, flip(leaf(m), (m * 7 + n) % 256), proof, roots[n]!, `leaf bit ${at}`);
        await reject(m, n, leaf(m), proof, flip(roots[n]!, n % 256), `root bit ${at}`);
        for (let e = 0; e < proof.length; e++) {
          await reject(m, n, leaf(m), proof.map((x, i) => (i === e ? flip(x, (e * 31 + m) % 256) : x)), roots[n]!, `element ${e} ${at}`);
        }
        if (proof.length > 0) {
          await reject(m, n, leaf(m), proof.slice(0, -1), roots[n]!, `truncated end ${at}`);
          await reject(m, n, leaf(m), proof.slice(1), roots[n]!, `truncated start ${at}`);
          await reject(m, n, leaf(m), [...proof.slice(0, -1), proof[proof.length - 1]!.subarray(1)], roots[n]!, `short hash ${at}`);
        }
        await reject(m, n, leaf(m), [...proof, junk], roots[n]!, `extended end ${at}`);
        await reject(m, n, leaf(m), [junk, ...proof], roots[n]!, `extended start ${at}`);
        await reject(n, n, leaf(m), proof, roots[n]!, `index = size ${at}`);
        await reject(-1, n, leaf(m), proof, roots[n]!, `negative index ${at}`);
        // Another index or size (with that size's root) can only verify if the proof is also that
        // position's PATH — the reference says it never is; the expectation keeps that honest.
        for (const j of sample(n, 16)) {
          if (j !== m) expect(await verifyInclusion(j, n, leaf(m), proof, roots[n]!), `index ${j} for ${at}`).toBe(false);
          if (j !== m) expect(await verifyInclusion(j, n, leaf(j), proof, roots[n]!), `leaf ${j} for ${at}`).toBe(same(proof, ref.path(j, 0, n)));
        }
        for (const s of [n - 2, n - 1, n + 1, n + 2, 2 * n].filter((s) => s > m && s <= MAX)) {
          expect(await verifyInclusion(m, s, leaf(m), proof, roots[s]!), `size ${s} for ${at}`).toBe(same(proof, ref.path(m, 0, s)));
        }
      });
    }
  });

  it("consistency: flipped bits, truncated/extended proofs, swapped sizes or roots, wrong sizes", async () => {
    const check = async (m: number, n: number, r1: Uint8Array, r2: Uint8Array, p: Uint8Array[], want: boolean, why: string): Promise<void> => {
      expect(await verifyConsistency(m, n, r1, r2, p), why).toBe(want);
    };
    for (let n = 1; n <= MAX; n++) {
      await each(sample(n, 24).map((i) => i + 1), async (m) => {
        const proof = ref.subproof(m, 0, n, true);
        const at = `${m}→${n}`;
        await check(m, n, flip(roots[m]!, 3), roots[n]!, proof, false, `old root bit ${at}`);
        await check(m, n, roots[m]!, flip(roots[n]!, 200), proof, false, `new root bit ${at}`);
        for (let e = 0; e < proof.length; e++) {
          await check(m, n, roots[m]!, roots[n]!, proof.map((x, k) => (k === e ? flip(x, (e * 13 + n) % 256) : x)), false, `element ${e} ${at}`);
        }
        if (proof.length > 0) {
          await check(m, n, roots[m]!, roots[n]!, proof.slice(0, -1), false, `truncated end ${at}`);
          await check(m, n, roots[m]!, roots[n]!, proof.slice(1), false, `truncated start ${at}`);
        }
        await check(m, n, roots[m]!, roots[n]!, [...proof, junk], false, `extended end ${at}`);
        await check(m, n, roots[m]!, roots[n]!, [junk, ...proof], false, `extended start ${at}`);
        await check(m, n, roots[m]!, roots[n]!, [roots[m]!, ...proof], false, `old root prepended ${at}`);
        if (m < n) {
          await check(n, m, roots[n]!, roots[m]!, proof, false, `swapped old/new ${at}`);
          await check(m, n, roots[n]!, roots[m]!, proof, false, `swapped roots ${at}`);
        }
        for (const [m2, n2] of [[m - 1, n], [m + 1, n], [m, n - 1], [m, n + 1], [m - 1, n - 1], [m + 1, n + 1]] as const) {
          if (m2 < 1 || m2 > n2 || n2 > MAX || (m2 === m && n2 === n)) continue;
          await check(m2, n2, roots[m2]!, roots[n2]!, proof, same(proof, ref.subproof(m2, 0, n2, true)), `sizes ${m2}→${n2} for ${at}`);
        }
      });
      await check(0, n, roots[1]!, roots[n]!, [], false, `size 0 with a non-empty root →${n}`);
      await check(0, n, roots[0]!, roots[n]!, [junk], false, `size 0 with a proof →${n}`);
      await check(n, n, roots[n]!, roots[n]!, [junk], false, `equal sizes with a proof ${n}`);
    }
  });
});

// transparency-dev/merkle testonly/constants.go and testdata/ (the RFC 6962 / CT reference data):
// leaf inputs, every perfect-subtree hash by (level, index), and roots for sizes 0..8.
const CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"];
const CT_NODES = [
  ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7", "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b", "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f", "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"],
  ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125", "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a", "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"],
  ["d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7", "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"],
  ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
];
const CT_ROOTS = [
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125", "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7", "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef", "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];
const N = (level: number, index: number): string => CT_NODES[level]![index]!;
const CT_INCLUSION: [number, number, string[]][] = [
  [0, 8, [N(0, 1), N(1, 1), N(2, 1)]],
  [5, 8, [N(0, 4), N(1, 3), N(2, 0)]],
  [2, 3, [N(1, 0)]],
  [1, 5, [N(0, 0), N(1, 1), N(0, 4)]],
];
const CT_CONSISTENCY: [number, number, string[]][] = [
  [1, 8, [N(0, 1), N(1, 1), N(2, 1)]],
  [6, 8, [N(1, 2), N(1, 3), N(2, 0)]],
  [2, 5, [N(1, 1), N(0, 4)]],
  [6, 7, [N(1, 2), N(0, 6), N(2, 0)]],
];

describe("known answers (RFC 6962 / Certificate Transparency test data)", () => {
  const ct = new MemoryNodeStore();
  beforeAll(async () => {
    for (const d of CT_LEAVES) await ct.append(await leafHash(unhex(d)));
  });

  it("empty tree and one-leaf tree", async () => {
    expect(hex(await rootHash(0, new MemoryNodeStore()))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect(hex(await leafHash(new Uint8Array()))).toBe("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
    expect(hex(await rootHash(1, ct))).toBe(CT_ROOTS[1]);
    expect(await inclusionProof(0, 1, ct)).toEqual([]);
    expect(await verifyInclusion(0, 1, unhex(CT_ROOTS[1]!), [], unhex(CT_ROOTS[1]!))).toBe(true);
  });

  it("stored perfect subtrees and roots for sizes 0..8", async () => {
    for (const [level, row] of CT_NODES.entries()) {
      for (const [index, h] of row.entries()) expect(hex(await ct.get(level, index)), `${level}/${index}`).toBe(h);
    }
    for (let n = 0; n <= 8; n++) expect(hex(await rootHash(n, ct)), `size ${n}`).toBe(CT_ROOTS[n]);
    expect(hex(await nodeHash(unhex(N(0, 0)), unhex(N(0, 1))))).toBe(N(1, 0));
  });

  it.each(CT_INCLUSION)("inclusion proof for leaf %i in size %i", async (m, n, want) => {
    expect((await inclusionProof(m, n, ct)).map(hex)).toEqual(want);
    expect(await verifyInclusion(m, n, unhex(N(0, m)), want.map(unhex), unhex(CT_ROOTS[n]!))).toBe(true);
  });

  it.each(CT_CONSISTENCY)("consistency proof %i → %i", async (m, n, want) => {
    expect((await consistencyProof(m, n, ct)).map(hex)).toEqual(want);
    expect(await verifyConsistency(m, n, unhex(CT_ROOTS[m]!), unhex(CT_ROOTS[n]!), want.map(unhex))).toBe(true);
  });
});

describe("node storage", () => {
  it("completedNodes lists the leaf, then each perfect subtree it completes", async () => {
    const s = new MemoryNodeStore();
    const want: Record<number, [number, number][]> = { 0: [[0, 0]], 1: [[0, 1], [1, 0]], 2: [[0, 2]], 3: [[0, 3], [1, 1], [2, 0]], 6: [[0, 6]], 7: [[0, 7], [1, 3], [2, 1], [3, 0]] };
    for (let i = 0; i < 8; i++) {
      const l = leaf(i);
      const nodes = await completedNodes(i, l, s);
      if (want[i]) expect(nodes.map((x) => [x.level, x.index])).toEqual(want[i]);
      // Every node covers leaves [index·2^level, (index+1)·2^level).
      for (const x of nodes) expect(hex(x.hash)).toBe(hex(ref.mth(x.index * 2 ** x.level, (x.index + 1) * 2 ** x.level)));
      await s.append(l);
    }
  });

  it("reads only stored perfect subtrees, O(log n) of them, even beyond 2^32 leaves", async () => {
    const reads: [number, number][] = [];
    // A fake log of the given size, where every perfect subtree inside it "exists"; anything else throws.
    const fake = (size: number): NodeReader => ({
      async get(level, index) {
        if (!Number.isSafeInteger(index) || index < 0 || (index + 1) * 2 ** level > size) throw new Error(`no node ${level}/${index}`);
        reads.push([level, index]);
        return sha256(Uint8Array.of(level), new TextEncoder().encode(String(index)));
      },
    });
    for (const size of [2 ** 33 + 5, 2 ** 40 - 1, 2 ** 52 + 12345]) {
      const bound = 2 * Math.ceil(Math.log2(size)) + 2;
      reads.length = 0;
      await rootHash(size, fake(size));
      expect(reads.length).toBeLessThanOrEqual(bound);
      reads.length = 0;
      // Leaf 1 sits at full depth; the right edge exercises the non-perfect subtrees.
      expect((await inclusionProof(1, size, fake(size))).length).toBe(Math.ceil(Math.log2(size)));
      expect(reads.length).toBeLessThanOrEqual(bound);
      reads.length = 0;
      await inclusionProof(size - 3, size, fake(size));
      expect(reads.length).toBeLessThanOrEqual(bound);
      reads.length = 0;
      await consistencyProof(size - 1000, size, fake(size));
      expect(reads.length).toBeLessThanOrEqual(bound);
    }
    const nodes = await completedNodes(2 ** 40 - 1, leaf(0), fake(2 ** 40));
    expect(nodes.map((x) => x.level)).toEqual(range(0, 41));
    expect(nodes.at(-1)).toMatchObject({ level: 40, index: 0 });
  });

  it("rejects bad arguments and missing nodes", async () => {
    await expect(inclusionProof(5, 5, store)).rejects.toThrow(RangeError);
    await expect(inclusionProof(0, MAX + 1, store)).rejects.toThrow(/not stored/);
    await expect(consistencyProof(6, 5, store)).rejects.toThrow(RangeError);
    await expect(rootHash(-1, store)).rejects.toThrow(RangeError);
    await expect(rootHash(1.5, store)).rejects.toThrow(RangeError);
    await expect(store.append(new Uint8Array(31))).rejects.toThrow(TypeError);
    expect(await verifyInclusion(0, 2, leaf(0), [leaf(1)], roots[2]!)).toBe(true);
    expect(await verifyInclusion(0.5, 2, leaf(0), [leaf(1)], roots[2]!)).toBe(false);
    expect(await verifyInclusion(0, 2, leaf(0), [leaf(1)], roots[2]!.subarray(1))).toBe(false);
    expect(await verifyConsistency(1, 2, roots[1]!, roots[2]!, [leaf(1)])).toBe(true);
    expect(await verifyConsistency(1, Number.MAX_SAFE_INTEGER + 1, roots[1]!, roots[2]!, [leaf(1)])).toBe(false);
  });
});
