import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalArchive } from "../src/archive/local.ts";
import type { ArchiveStore } from "../src/archive/types.ts";
import { Archiver } from "../src/audit/archiver.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

// The signed tree heads in the WORM store are what `kakunin audit check-archive` proves the
// archived entries against. When their uploads failed while the batches went through (a key
// another writer had taken, a policy that let some keys through), /metrics showed no backlog at
// all: kakunin_archive_pending_batches and kakunin_archive_lag_seconds count batches only, so
// ArchiveBlocked could not fire however long the heads waited.
describe("tree heads the archive has not accepted are a visible backlog", () => {
  let o: TestOrigin;
  const dir = mkdtempSync(join(tmpdir(), "kakunin-archive-heads-"));
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
  });
  afterAll(async () => {
    await o.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const gauge = async (name: string): Promise<number> => {
    const text = await (await o.request("GET", "/metrics", { key: null })).text();
    const m = new RegExp(`^${name} ([\\d.e+-]+)$`, "m").exec(text);
    if (!m) throw new Error(`${name} not exported`);
    return Number(m[1]);
  };

  it("kakunin_archive_pending_tree_heads and kakunin_archive_tree_head_lag_seconds", async () => {
    for (let i = 0; i < 3; i++) expect((await o.json("POST", "/v1/agents", { body: agentBody({ name: `heads-${i}` }) })).status).toBe(201);
    expect((await o.json("GET", "/v1/audit/tree-head")).status).toBe(200);
    const local = createLocalArchive(dir);
    const headsRefused: ArchiveStore = {
      kind: "local",
      head: (k) => local.head(k),
      get: (k) => local.get(k),
      put: async (k, b, opts) =>
        k.includes("/tree-heads/") ? { ok: false, error: { code: "misconfigured", message: "AccessDenied" } } : local.put(k, b, opts),
    };
    const r = await new Archiver(o.services, headsRefused, { batchSize: 2, maxAgeMs: 0, log: () => undefined }).runOnce();
    expect(r.archived).toBeGreaterThan(0);
    expect(r.failed).toBeGreaterThan(0);
    expect(await gauge("kakunin_archive_pending_batches")).toBe(0);
    expect(await gauge("kakunin_archive_pending_tree_heads")).toBeGreaterThan(0);
    expect(await gauge("kakunin_archive_tree_head_lag_seconds")).toBeGreaterThanOrEqual(0);

    // Once the store takes them, both fall back to 0.
    expect((await new Archiver(o.services, local, { batchSize: 2, maxAgeMs: 0, log: () => undefined }).runOnce()).failed).toBe(0);
    expect(await gauge("kakunin_archive_pending_tree_heads")).toBe(0);
    expect(await gauge("kakunin_archive_tree_head_lag_seconds")).toBe(0);
  });
});
