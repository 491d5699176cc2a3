import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { createLocalArchive } from "../src/archive/local.ts";
import { Archiver } from "../src/audit/archiver.ts";
import { sql } from "drizzle-orm";
import { agentBody, rowsOf, startTestOrigin } from "./harness.ts";

// docs/operations.md "Restore from backup": the audit log after the restore point is gone from
// the database but not from the WORM archive, and the log grows again from the restore point with
// other entries at the same indices. Before, batch keys were `<first>-<last>.jsonl` and head keys
// `<size>.json`: the regrown log's first full batch and every re-signed size met a key that
// already held the lost history's bytes, locked for years, so put() refused them ('rejected')
// on every pass, forever: the tenant's archive stopped for good at the restore point.
const work = mkdtempSync(join(tmpdir(), "kakunin-archive-restore-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it("after a database restore the regrown log is archived too; the lost history stays in the archive beside it", async () => {
  const data = join(work, "data");
  const env = { KAKUNIN_MASTER_KEY: randomBytes(32).toString("base64") };
  const adminKey = `test-admin-${randomBytes(8).toString("hex")}`;
  const store = createLocalArchive(join(work, "archive"));
  const archive = async (o: Awaited<ReturnType<typeof startTestOrigin>>) => {
    // Batches of 3 with no age limit: under load every batch is full, so ranges line up again.
    const r = await new Archiver(o.services, store, { batchSize: 3, maxAgeMs: 0, log: () => undefined }).runOnce();
    return r;
  };
  const grow = async (o: Awaited<ReturnType<typeof startTestOrigin>>, prefix: string) => {
    for (let i = 0; i < 6; i++) expect((await o.json("POST", "/v1/agents", { body: agentBody({ name: `${prefix}-${i}` }) })).status).toBe(201);
    expect((await o.json("GET", "/v1/audit/tree-head")).status).toBe(200);
  };

  let o = await startTestOrigin("pglite", { dataDir: data, env, adminKey });
  const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
  await grow(o, "before-backup");
  expect((await archive(o)).failed).toBe(0);
  await o.close();
  cpSync(data, join(work, "backup"), { recursive: true }); // the backup

  o = await startTestOrigin("pglite", { dataDir: data, env, adminKey });
  await grow(o, "lost"); // written after the backup, archived, then lost with the database
  expect((await archive(o)).failed).toBe(0);
  const lostSize = (await o.json<{ data: { tree_size: number } }>("GET", "/v1/audit/tree-head")).body.data.tree_size;
  await o.close();

  o = await startTestOrigin("pglite", { dataDir: join(work, "backup"), env, adminKey }); // restored
  try {
    await grow(o, "regrown");
    const size = (await o.json<{ data: { tree_size: number } }>("GET", "/v1/audit/tree-head")).body.data.tree_size;
    expect(size).toBe(lostSize); // the same indices and tree sizes, other entries
    const r = await archive(o);
    expect(r.failed).toBe(0);
    const [pending] = rowsOf<{ n: string }>(await o.services.db.execute(sql`select count(*)::text as n from audit_batches where archived_at is null`));
    expect(Number(pending!.n)).toBe(0);
  } finally {
    await o.close();
  }
  // Both histories are in the archive: the lost one is the evidence of what the restore undid.
  const objects = readdirSync(join(work, "archive", "audit", tenant)).filter((f) => f.endsWith(".jsonl"));
  const firsts = objects.map((f) => f.slice(0, 12));
  expect(new Set(firsts).size).toBeLessThan(firsts.length);
});
