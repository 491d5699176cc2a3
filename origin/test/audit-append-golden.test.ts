import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rootHash } from "@kakunin/shared";
import { appendAudit, committedReader } from "../src/audit/append.ts";
import type { AuditItem, AuditKind } from "../src/audit/types.ts";
import { dbKinds, rowsOf, startTestOrigin, type TestOrigin } from "./harness.ts";
import { rng } from "./rng.ts";

/**
 * The audit log's bytes are a commitment: the same operations appended in the same order must give
 * the same canonical entries, leaf hashes, stored tree nodes, heads and root, whatever the append
 * code does to be fast. The expected digests below were produced by main's appendAudit (at 9bbfb09,
 * before the append fast path) over exactly this sequence; any change to them is a format change.
 */
const TENANT = "5b0c3f1e-7a2d-4c19-9e8b-2f4d6a1c0e97";
const AGENTS = ["0d9f2a4e-1b3c-4e5f-8a7b-6c5d4e3f2a1b", "7e6d5c4b-3a29-4817-a6b5-c4d3e2f1a0b9", "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"];
const KINDS: AuditKind[] = ["event.ingested", "key.signed", "agent.updated", "certificate.issued", "event.ingested", "risk.decision"];
// Batch sizes cross tile (16) and level boundaries at different offsets, with singles in between.
const BATCHES = [1, 1, 14, 16, 3, 100, 1, 257, 31, 500, 2, 77];

/** A deterministic item: unicode, escapes, numbers of every JCS-relevant form, nesting, empty containers. */
function item(n: number, rand: () => number): AuditItem {
  const at = new Date(Date.UTC(2026, 11, 3, 12, 0, 0) + n * 37);
  const agentId = n % 7 === 6 ? null : AGENTS[n % AGENTS.length]!;
  const amount = [0, -0, 1e21, 1e-7, 123.456, -5e-324, 2 ** 53, Math.round(rand() * 1e8) / 100][n % 8]!;
  return {
    kind: KINDS[n % KINDS.length]!, at, agentId,
    actor: n % 5 === 0 ? { type: "edge", id: "agent-monitor" } : { type: "api_key", id: `key-${n % 3}`, role: "admin" },
    data: {
      event: { event_id: `ev-${n}`, timestamp: at.toISOString(), amount, note: ["", "é", "日本語", "emoji 😀", "tab\tnl\n\"q\" \\ \u0001 \u007f \u2028", "\ufeff"][n % 6], nested: { z: [1, [2, { b: null, a: true }]], A: {}, "": [] } },
      score: Math.round(rand() * 1000) / 1000, reasons: n % 4 ? [] : [{ feature: "rate", contribution: rand() }],
      "€": 1, "\u00e9": 2, e: 3, "10": 4, "9": 5, skipped: undefined,
    },
  };
}

interface EntryRow { idx: string | number; kind: string; agent_id: string | null; canonical: string; leaf: string; created_at: string | Date }

const digest = (lines: string[]) => createHash("sha256").update(lines.join("\n")).digest("hex");

describe.each(dbKinds())("audit append is byte-identical to main's on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => { o = await startTestOrigin(kind); });
  afterAll(async () => { await o.close(); });

  it("a fixed sequence gives the recorded entries, nodes, heads and root", async () => {
    const db = o.services.db;
    await db.execute(`insert into tenants (id, name) values ('${TENANT}', 'golden-append')`);
    const rand = rng(42);
    let n = 0;
    for (const size of BATCHES) {
      const items = Array.from({ length: size }, () => item(n++, rand));
      await db.transaction((tx) => appendAudit(tx, TENANT, items));
    }
    const entries = rowsOf<EntryRow>(await db.execute(
      `select idx, kind, agent_id, canonical, encode(leaf_hash, 'hex') as leaf, created_at from audit_entries where tenant_id = '${TENANT}' order by idx`));
    expect(entries.length).toBe(n);
    const nodes = rowsOf<{ level: number; idx: string | number; hash: string }>(await db.execute(
      `select level, idx, encode(hash, 'hex') as hash from audit_nodes where tenant_id = '${TENANT}' order by level, idx`));
    const heads = rowsOf<{ size: string | number; last: string }>(await db.execute(
      `select size, encode(last_leaf_hash, 'hex') as last from audit_heads where tenant_id = '${TENANT}'`));
    const agentHeads = rowsOf<{ agent_id: string; size: string | number; last: string; lsize: string | number; llast: string | null }>(await db.execute(
      `select agent_id, size, encode(last_leaf_hash, 'hex') as last, lifecycle_size as lsize, encode(last_lifecycle_leaf_hash, 'hex') as llast
       from audit_agent_heads where tenant_id = '${TENANT}' order by agent_id`));
    const root = Buffer.from(await db.transaction(async (tx) => rootHash(n, committedReader(tx, TENANT)))).toString("hex");

    expect.soft(digest(entries.map((e) => [e.idx, e.kind, e.agent_id, e.canonical, e.leaf, new Date(e.created_at).toISOString()].join("|")))).toBe(
      "edc1725f2c19ef3ec967c4f9503e1fd478ed3189b52db2593ab65445086924cb");
    expect.soft(digest(nodes.map((r) => `${r.level}/${r.idx}/${r.hash}`))).toBe("6b071ad1a4e01b42a7b442577b118db3a2b1a912ea07945dab63751713b46fc0");
    expect.soft(heads.map((h) => `${h.size}/${h.last}`)).toEqual(["1003/53abd727f802fed9e3cbf72469c444c1871d64d3ffa534e8aa3790b87e31b4b3"]);
    expect.soft(agentHeads.map((h) => `${h.agent_id}/${h.size}/${h.last}/${h.lsize}/${h.llast}`)).toEqual([
      "0d9f2a4e-1b3c-4e5f-8a7b-6c5d4e3f2a1b/287/53abd727f802fed9e3cbf72469c444c1871d64d3ffa534e8aa3790b87e31b4b3/143/998d0e2496bd2cab2db69d3f7b623ae27ad342081e7ac0154de9eea9f2398dc2",
      "7e6d5c4b-3a29-4817-a6b5-c4d3e2f1a0b9/286/baa84bb25e244efedaf641f54d56f072251ef929c5a7844d23fb845763511df9/0/null",
      "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f/287/5848738d1ac6e7ad3a34f2a884072a72cef56574b55aefec54ec43b44dc9c80f/287/5848738d1ac6e7ad3a34f2a884072a72cef56574b55aefec54ec43b44dc9c80f",
    ]);
    expect.soft(root).toBe("b5462346dadfc020dd7c5dda56225b03a043116d324ae8a7be6fe2f3f82ec2a9");
  });
});
