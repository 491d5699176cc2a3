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
    kind: KINDS[n % KINDS.length]!,
    at,
    agentId,
    actor: n % 5 === 0 ? { type: "edge", id: "agent-monitor" } : { type: "api_key", id: `key-${n % 3}`, role: "admin" },
    data: {
      event: {
        event_id: `ev-${n}`,
        timestamp: at.toISOString(),
        amount,
        note: ["", "é", "日本語", "emoji 😀", 'tab\tnl\n"q" \\ \u0001 \u007f \u2028', "\ufeff"][n % 6],
        nested: { z: [1, [2, { b: null, a: true }]], A: {}, "": [] },
      },
      score: Math.round(rand() * 1000) / 1000,
      reasons: n % 4 ? [] : [{ feature: "rate", contribution: rand() }],
      "€": 1,
      "\u00e9": 2,
      e: 3,
      skipped: undefined,
      // Names with digits only sometimes: engines enumerate index-like names first, which the
      // canonicaliser's fast path leaves to the general walk.
      ...(n % 5 === 0 ? { "10": 4, "9": 5 } : { k9: 5, k10: 4 }),
    },
  };
}

interface EntryRow {
  idx: string | number;
  kind: string;
  agent_id: string | null;
  canonical: string;
  leaf: string;
  created_at: string | Date;
}

const digest = (lines: string[]) => createHash("sha256").update(lines.join("\n")).digest("hex");

describe.each(dbKinds())("audit append is byte-identical to main's on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("a fixed sequence gives the recorded entries, nodes, heads and root", async () => {
    const db = o.services.db;
    await db.execute(`insert into tenants (id, name) values ('${TENANT}', 'golden-append')`);
    const rand = rng(42);
    let n = 0;
    for (const size of BATCHES) {
      const items = Array.from({ length: size }, () => item(n++, rand));
      await db.transaction((tx) => appendAudit(tx, TENANT, items));
    }
    const entries = rowsOf<EntryRow>(
      await db.execute(
        `select idx, kind, agent_id, canonical, encode(leaf_hash, 'hex') as leaf, created_at from audit_entries where tenant_id = '${TENANT}' order by idx`,
      ),
    );
    expect(entries.length).toBe(n);
    const nodes = rowsOf<{ level: number; idx: string | number; hash: string }>(
      await db.execute(`select level, idx, encode(hash, 'hex') as hash from audit_nodes where tenant_id = '${TENANT}' order by level, idx`),
    );
    const heads = rowsOf<{ size: string | number; last: string }>(
      await db.execute(`select size, encode(last_leaf_hash, 'hex') as last from audit_heads where tenant_id = '${TENANT}'`),
    );
    const agentHeads = rowsOf<{ agent_id: string; size: string | number; last: string; lsize: string | number; llast: string | null }>(
      await db.execute(
        `select agent_id, size, encode(last_leaf_hash, 'hex') as last, lifecycle_size as lsize, encode(last_lifecycle_leaf_hash, 'hex') as llast
       from audit_agent_heads where tenant_id = '${TENANT}' order by agent_id`,
      ),
    );
    const root = Buffer.from(await db.transaction(async (tx) => rootHash(n, committedReader(tx, TENANT)))).toString("hex");

    expect
      .soft(digest(entries.map((e) => [e.idx, e.kind, e.agent_id, e.canonical, e.leaf, new Date(e.created_at).toISOString()].join("|"))))
      .toBe("c3686db604d4e7a6a25d43abc59964c55bd177844a0377150db29ad3b00050e0");
    expect.soft(digest(nodes.map((r) => `${r.level}/${r.idx}/${r.hash}`))).toBe("9ec0731477961acd51e2da25cd0bacb2d99ec071e0ca59cb359070ae6a8f7c6f");
    expect.soft(heads.map((h) => `${h.size}/${h.last}`)).toEqual(["1003/22627dce6c19e399c42d2e1e4078efe94de426e8dca7f8944c87b61ed2bcc87a"]);
    expect
      .soft(agentHeads.map((h) => `${h.agent_id}/${h.size}/${h.last}/${h.lsize}/${h.llast}`))
      .toEqual([
        "0d9f2a4e-1b3c-4e5f-8a7b-6c5d4e3f2a1b/287/22627dce6c19e399c42d2e1e4078efe94de426e8dca7f8944c87b61ed2bcc87a/143/0df0609861ab0fbb09914a2e3b23bc95e40e4665f776b5066c143f98717258ca",
        "7e6d5c4b-3a29-4817-a6b5-c4d3e2f1a0b9/286/2f3709889d282f08538f423cf27a09be2f8d7fc91da3c7b805ac196111c27bea/0/null",
        "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f/287/74cc84f14d4d44f057feabcaef734e51e3319b6a3776ccc842073d01542079ef/287/74cc84f14d4d44f057feabcaef734e51e3319b6a3776ccc842073d01542079ef",
      ]);
    expect.soft(root).toBe("627cc960795347212a2ec88d71835ac7fd2dcce799340c1539685e4a8b3fbf02");
  });
});
