/**
 * Issue 16 goal 5: proofs served from the stored layout (nodes from level 4 up, lower levels
 * recomputed from leaf tiles, fetched in one batch per proof; audit/nodes.ts) must be
 * byte-identical to RFC 9162 §2.1 computed plainly over the leaves, for sizes on every boundary
 * (1, 2, 2^k, 2^k ± 1) and at random, on PGlite and PostgreSQL; and appends from two origins on one
 * PostgreSQL must leave one consistent chain and tree. The origins' node caches (audit/node-cache.ts)
 * must keep every answer identical while the log grows, on the same origin and on another.
 */
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../src/audit/append.ts";
import { AuditNodeCache, CHUNK_COST } from "../src/audit/node-cache.ts";
import { SYSTEM, type AuditItem } from "../src/audit/types.ts";
import { dbKinds, freshPostgresDatabase, postgresUrl, rowsOf, startTestOrigin, type TestOrigin } from "./harness.ts";

// ---- RFC 9162 §2.1, read literally, over the list of leaf hashes (node:crypto, no shared code). ----
const sha = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};
const k2 = (n: number) => {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
};
class Rfc {
  readonly #memo = new Map<string, string>();
  constructor(private readonly leaves: string[]) {}
  mth(lo: number, hi: number): string {
    const key = `${lo}:${hi}`;
    let h = this.#memo.get(key);
    if (h === undefined) {
      const n = hi - lo;
      if (n === 1) h = this.leaves[lo]!;
      else {
        const k = k2(n);
        h = sha(Uint8Array.of(1), Buffer.from(this.mth(lo, lo + k), "hex"), Buffer.from(this.mth(lo + k, hi), "hex"));
      }
      this.#memo.set(key, h);
    }
    return h;
  }
  path(m: number, lo: number, hi: number): string[] {
    const n = hi - lo;
    if (n === 1) return [];
    const k = k2(n);
    return m < k ? [...this.path(m, lo, lo + k), this.mth(lo + k, hi)] : [...this.path(m - k, lo + k, hi), this.mth(lo, lo + k)];
  }
  subproof(m: number, lo: number, hi: number, b: boolean): string[] {
    const n = hi - lo;
    if (m === n) return b ? [] : [this.mth(lo, hi)];
    const k = k2(n);
    return m <= k ? [...this.subproof(m, lo, lo + k, b), this.mth(lo + k, hi)] : [...this.subproof(m - k, lo + k, hi, false), this.mth(lo, lo + k)];
  }
}

const items = (n: number, tag: string): AuditItem[] =>
  Array.from({ length: n }, (_, i) => ({ kind: "policy.updated" as const, actor: SYSTEM(tag), data: { i, tag }, at: new Date() }));

async function tenantOf(o: TestOrigin): Promise<string> {
  return (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
}

/** The log as stored, checked entry by entry: leaf = SHA-256(0x00 || canonical), prev links. */
async function storedLeaves(o: TestOrigin, tenantId: string): Promise<string[]> {
  const rows = rowsOf<{ idx: number | string; canonical: string; leaf: string }>(
    await o.services.db.execute(`select idx, canonical, encode(leaf_hash, 'hex') as leaf from audit_entries where tenant_id = '${tenantId}' order by idx`),
  );
  return rows.map((r, i) => {
    expect(Number(r.idx)).toBe(i);
    const leaf = sha(Uint8Array.of(0), Buffer.from(r.canonical, "utf8"));
    expect(r.leaf).toBe(leaf);
    expect((JSON.parse(r.canonical) as { prev: string | null }).prev).toBe(i === 0 ? null : rows[i - 1]!.leaf);
    return leaf;
  });
}

interface Inclusion {
  data: { leaf_hash: string; root_hash: string; audit_path: string[] };
}
interface Consistency {
  data: { first_root: string; second_root: string; proof: string[] };
}

async function checkSizes(o: TestOrigin, ref: Rfc, leaves: string[], sizes: number[], rand: () => number): Promise<void> {
  for (const s of sizes) {
    const entries = [...new Set([0, s - 1, Math.floor(s / 2), Math.min(s - 1, 15), Math.min(s - 1, 16), Math.floor(rand() * s)])];
    for (const m of entries) {
      const r = await o.json<Inclusion>("GET", `/v1/audit/proofs/inclusion?entry=${m}&tree_size=${s}`);
      expect(r.status, `inclusion ${m}/${s}`).toBe(200);
      expect(r.body.data.leaf_hash).toBe(leaves[m]);
      expect(r.body.data.root_hash, `root of ${s}`).toBe(ref.mth(0, s));
      expect(r.body.data.audit_path, `PATH(${m}, D[${s}])`).toEqual(ref.path(m, 0, s));
    }
    for (const m of [...new Set([1, s - 1, Math.max(1, Math.floor(s / 2)), Math.min(s, 16), 1 + Math.floor(rand() * s)])].filter((x) => x >= 1 && x <= s)) {
      const r = await o.json<Consistency>("GET", `/v1/audit/proofs/consistency?from=${m}&to=${s}`);
      expect(r.status, `consistency ${m}→${s}`).toBe(200);
      expect(r.body.data.first_root).toBe(ref.mth(0, m));
      expect(r.body.data.second_root).toBe(ref.mth(0, s));
      expect(r.body.data.proof, `PROOF(${m}, D[${s}])`).toEqual(m === s ? [] : ref.subproof(m, 0, s, true));
    }
  }
}

function seeded(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe.each(dbKinds())("audit proofs from stored tiles on %s", (kind) => {
  let o: TestOrigin;
  let tenantId = "";
  beforeAll(async () => {
    o = await startTestOrigin(kind);
    tenantId = await tenantOf(o);
    // Uneven batches, so nodes are completed across batch boundaries and inside them.
    for (const n of [1, 2, 5, 13, 16, 31, 1, 64, 7, 100, 33, 3]) await o.services.db.transaction((tx) => appendAudit(tx, tenantId, items(n, kind)));
  }, 120_000);
  afterAll(async () => {
    await o?.close();
  });

  it("inclusion and consistency proofs equal RFC 9162 over the leaves at 1, 2, 2^k, 2^k ± 1 and random sizes", async () => {
    const leaves = await storedLeaves(o, tenantId);
    const ref = new Rfc(leaves);
    const n = leaves.length;
    const rand = seeded(16);
    const boundaries = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 256, 257];
    const sizes = [...new Set([...boundaries.filter((s) => s <= n), n, ...Array.from({ length: 8 }, () => 1 + Math.floor(rand() * n))])];
    await checkSizes(o, ref, leaves, sizes, rand);
    // A signed tree head (its first use may log the signer's creation: read the leaves again).
    const head = await o.json<{ data: { tree_size: number; root_hash: string } }>("GET", "/v1/audit/tree-head");
    expect(head.body.data.root_hash).toBe(new Rfc(await storedLeaves(o, tenantId)).mth(0, head.body.data.tree_size));
  }, 300_000);

  // The node cache (audit/node-cache.ts) keeps chunks across requests, including partial chunks at
  // the right edge: after the log grows, every proof must still equal RFC 9162 over the leaves.
  it("keeps answering RFC 9162 from the node cache while the log grows past cached partial chunks", async () => {
    const rand = seeded(99);
    for (const n of [1, 3, 12, 16, 17, 40, 5]) {
      await o.services.db.transaction((tx) => appendAudit(tx, tenantId, items(n, `grow-${kind}`)));
      const leaves = await storedLeaves(o, tenantId);
      const size = leaves.length;
      await checkSizes(o, new Rfc(leaves), leaves, [size, size - 1, Math.max(1, size - 17), 1 + Math.floor(rand() * size)], rand);
      // Without tree_size the proof is for the current size, which includes the entry just appended.
      const last = await o.json<Inclusion & { data: { tree_size: number } }>("GET", `/v1/audit/proofs/inclusion?entry=${size - 1}`);
      expect(last.status).toBe(200);
      expect(last.body.data.tree_size).toBe(size);
      expect(last.body.data.leaf_hash).toBe(leaves[size - 1]);
      // Nothing past the log is served, whatever is cached.
      expect((await o.json("GET", `/v1/audit/proofs/inclusion?entry=0&tree_size=${size + 1}`)).status).toBe(422);
      expect((await o.json("GET", `/v1/audit/proofs/consistency?from=1&to=${size + 1}`)).status).toBe(422);
      expect((await o.json("GET", `/v1/audit/proofs/inclusion?entry=${size}`)).status).toBe(404);
    }
    // A repeated proof is answered from memory: no chunk is missed.
    const size = (await storedLeaves(o, tenantId)).length;
    await o.json("GET", `/v1/audit/proofs/inclusion?entry=7&tree_size=${size}`);
    const misses = o.services.auditNodes.misses;
    expect((await o.json("GET", `/v1/audit/proofs/inclusion?entry=7&tree_size=${size}`)).status).toBe(200);
    expect(o.services.auditNodes.misses).toBe(misses);
  }, 300_000);

  it("stays within its memory bound and still answers RFC 9162 when it evicts", async () => {
    const full = o.services.auditNodes;
    o.services.auditNodes = new AuditNodeCache(3 * CHUNK_COST);
    try {
      const leaves = await storedLeaves(o, tenantId);
      const rand = seeded(5);
      await checkSizes(o, new Rfc(leaves), leaves, [leaves.length, 33, 1 + Math.floor(rand() * leaves.length)], rand);
      expect(o.services.auditNodes.size).toBeLessThanOrEqual(3);
      expect(o.services.auditNodes.misses).toBeGreaterThan(3);
    } finally {
      o.services.auditNodes = full;
    }
  }, 300_000);
});

describe.runIf(postgresUrl())("two origins appending to one PostgreSQL", () => {
  it("keeps one chain and one tree whose proofs match RFC 9162", async () => {
    const pg = await freshPostgresDatabase();
    const a = await startTestOrigin("postgres", { databaseUrl: pg.url });
    const b = await startTestOrigin("postgres", { databaseUrl: pg.url, adminKey: a.adminKey });
    try {
      const tenantId = await tenantOf(a);
      expect(await tenantOf(b)).toBe(tenantId);
      const writer = (o: TestOrigin, tag: string) =>
        (async () => {
          for (let i = 0; i < 25; i++) await o.services.db.transaction((tx) => appendAudit(tx, tenantId, items(1 + (i % 9), tag)));
        })();
      await Promise.all([writer(a, "a"), writer(b, "b"), writer(a, "a2"), writer(b, "b2")]);
      const leaves = await storedLeaves(a, tenantId);
      const ref = new Rfc(leaves);
      const rand = seeded(7);
      await checkSizes(b, ref, leaves, [leaves.length, 16, 17, 64, 65, 1 + Math.floor(rand() * leaves.length)], rand);
      await checkSizes(a, ref, leaves, [leaves.length - 1, 128, 129], rand);
      // Both caches are warm; B appends more. A serves the new sizes (its known size is only a lower
      // bound, read again for anything past it) and still the same tree as B.
      for (let i = 0; i < 3; i++) await b.services.db.transaction((tx) => appendAudit(tx, tenantId, items(7 + i * 9, "b3")));
      const grown = await storedLeaves(a, tenantId);
      const ref2 = new Rfc(grown);
      await checkSizes(a, ref2, grown, [grown.length, leaves.length + 1, leaves.length], rand);
      const last = await a.json<Inclusion & { data: { tree_size: number } }>("GET", `/v1/audit/proofs/inclusion?entry=${grown.length - 1}`);
      expect(last.body.data.tree_size).toBe(grown.length);
      expect(last.body.data.root_hash).toBe(ref2.mth(0, grown.length));
    } finally {
      await b.close();
      await a.close();
      await pg.drop();
    }
  }, 300_000);
});
