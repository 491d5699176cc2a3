import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rootHash } from "@kakunin/shared";
import { appendAudit, committedReader } from "../src/audit/append.ts";
import { Frontier } from "../src/audit/frontier.ts";
import type { AuditItem } from "../src/audit/types.ts";
import { dbKinds, rowsOf, startTestOrigin, type TestOrigin } from "./harness.ts";
import { leaf } from "./rfc9162.ts";
import { seedAgentEvents } from "./audit-seed.ts";
import { rng } from "./rng.ts";

/**
 * appendAudit reads nothing but the tree's right edge and the agents' heads, after locking the
 * tenant's head row. Many transactions appending at once (a pool on PostgreSQL, interleaved
 * awaits on PGlite) must still give one log: indices without gaps, both hash chains intact,
 * every stored node the hash of the leaves under it (recomputed here from the entries alone).
 */
const mth = (leaves: Buffer[]): Buffer => {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash("sha256")
    .update(Buffer.of(1))
    .update(mth(leaves.slice(0, k)))
    .update(mth(leaves.slice(k)))
    .digest();
};

describe.each(dbKinds())("concurrent audit appends on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("give one gap-free log with intact chains and correct nodes", async () => {
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agents = ["1a2b3c4d-0000-4000-8000-000000000001", "1a2b3c4d-0000-4000-8000-000000000002"];
    const rand = rng(5);
    const batches = Array.from({ length: 24 }, (_, b) =>
      Array.from(
        { length: 1 + Math.floor(rand() * 60) },
        (_, i): AuditItem => ({
          kind: i % 4 === 0 ? "agent.updated" : "event.ingested",
          actor: { type: "edge", id: `w${b}` },
          agentId: i % 5 === 4 ? null : agents[(b + i) % 2]!,
          data: { b, i, note: "ü 😀" },
          at: new Date(),
        }),
      ),
    );
    await Promise.all(batches.map((items) => o.services.db.transaction((tx) => appendAudit(tx, tenant, items))));
    const rows = await checkLog(tenant, agents);
    // Every item once (the log also holds the tenant's own entries from start-up).
    expect(rows.filter((r) => r.canonical.includes('"actor":{"id":"w')).length).toBe(batches.flat().length);
  });

  it("a rolled-back append and a writer that bypasses this origin never make it reuse a stale right edge", async () => {
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = "1a2b3c4d-0000-4000-8000-0000000000a1";
    const items = (n: number, tag: string) =>
      Array.from(
        { length: n },
        (_, i): AuditItem => ({ kind: "event.ingested", actor: { type: "edge", id: tag }, agentId: agent, data: { i }, at: new Date() }),
      );
    await o.services.db.transaction((tx) => appendAudit(tx, tenant, items(3, "a")));
    // This origin now remembers the edge after 5 more entries that never commit…
    await expect(
      o.services.db.transaction(async (tx) => {
        await appendAudit(tx, tenant, items(5, "rolled-back"));
        throw new Error("the operation fails");
      }),
    ).rejects.toThrow("the operation fails");
    // …and another writer makes the log exactly that long, with other entries (and the agent's chain).
    await seedAgentEvents(o.services.db, tenant, agent, "00", 5);
    await o.services.db.transaction((tx) => appendAudit(tx, tenant, items(20, "c")));
    const rows = await checkLog(tenant, [agent]);
    expect(rows.some((r) => r.canonical.includes("rolled-back"))).toBe(false);
  });

  /** The tenant's whole log: indices, both chains, every stored node and the root, from the entries alone. */
  async function checkLog(tenant: string, agents: string[]): Promise<{ canonical: string }[]> {
    const rows = rowsOf<{ idx: string | number; canonical: string; leaf: string }>(
      await o.services.db.execute(`select idx, canonical, encode(leaf_hash, 'hex') as leaf from audit_entries where tenant_id = '${tenant}' order by idx`),
    );
    const leaves = rows.map((r) => Buffer.from(r.leaf, "hex"));
    const lastOf = new Map<string, { seq: number; leaf: string; lifecycle: number; lifecycleLeaf: string | null }>();
    rows.forEach((r, i) => {
      expect(Number(r.idx)).toBe(i);
      expect(leaf(Buffer.from(r.canonical)).toString("hex")).toBe(r.leaf);
      const e = JSON.parse(r.canonical) as {
        index: number;
        prev: string | null;
        agent_id: string | null;
        kind: string;
        agent_seq?: number;
        agent_prev?: string | null;
        lifecycle_count?: number;
        lifecycle_prev?: string | null;
      };
      expect(e.index).toBe(i);
      expect(e.prev).toBe(i === 0 ? null : rows[i - 1]!.leaf);
      if (!e.agent_id || !agents.includes(e.agent_id)) return;
      const before = lastOf.get(e.agent_id) ?? { seq: -1, leaf: null as unknown as string, lifecycle: 0, lifecycleLeaf: null };
      expect(e.agent_seq).toBe(before.seq + 1);
      expect(e.agent_prev).toBe(before.seq < 0 ? null : before.leaf);
      const lifecycle = e.kind !== "event.ingested";
      expect(e.lifecycle_count).toBe(before.lifecycle + (lifecycle ? 1 : 0));
      if (lifecycle) expect(e.lifecycle_prev).toBe(before.lifecycleLeaf);
      lastOf.set(e.agent_id, {
        seq: before.seq + 1,
        leaf: r.leaf,
        lifecycle: before.lifecycle + (lifecycle ? 1 : 0),
        lifecycleLeaf: lifecycle ? r.leaf : before.lifecycleLeaf,
      });
    });

    const nodes = rowsOf<{ level: number; idx: string | number; hash: string }>(
      await o.services.db.execute(`select level, idx, encode(hash, 'hex') as hash from audit_nodes where tenant_id = '${tenant}' and level >= 4`),
    );
    expect(nodes.length).toBe(Array.from({ length: 12 }, (_, l) => Math.floor(rows.length / 2 ** (l + 4))).reduce((a, b) => a + b, 0));
    for (const n of nodes) {
      const span = 2 ** n.level;
      expect(n.hash, `${n.level}/${n.idx}`).toBe(mth(leaves.slice(Number(n.idx) * span, (Number(n.idx) + 1) * span)).toString("hex"));
    }
    const root = await o.services.db.transaction((tx) => rootHash(rows.length, committedReader(tx, tenant)));
    expect(Buffer.from(root).toString("hex")).toBe(mth(leaves).toString("hex"));
    return rows;
  }

  it("refuses to append over a right edge it cannot read in full, rather than guess", () => {
    const h = new Uint8Array(32);
    expect(() => Frontier.fromStore(48, new Map([["5:0", h]]), [])).toThrow("audit node 4/2 missing");
    expect(() => Frontier.fromStore(19, new Map([["4:0", h]]), [h, h])).toThrow("audit leaves 16..18 missing: 2 found");
    expect(() => Frontier.fromStore(19, new Map([["4:0", h]]), [h, h, h])).not.toThrow();
  });
});
