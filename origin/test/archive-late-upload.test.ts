import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalArchive } from "../src/archive/local.ts";
import { Archiver } from "../src/audit/archiver.ts";
import { agentBody, dbKinds, rowsOf, startTestOrigin, type TestOrigin } from "./harness.ts";

const DAY = 86_400_000;

// A batch's retain-until is fixed when it is sealed (sealed time + KAKUNIN_ARCHIVE_RETENTION_DAYS).
// When the store was unreachable for longer than that (a short retention while trying settings
// out, a long outage), the WORM store refuses a retain-until in the past, and before this fix
// every retry asked for the same past date: the batch was `rejected` forever and, since a tenant's
// queue keeps log order, every later batch of that tenant waited behind it.
describe.each(dbKinds())("archive upload after the sealed retention ran out, on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("a batch sealed longer ago than its retention is still archived, locked for the full retention from upload", async () => {
    for (let i = 0; i < 5; i++) await o.json("POST", "/v1/agents", { body: agentBody({ name: `late-${i}` }) });
    const store = createLocalArchive(mkdtempSync(join(tmpdir(), "kakunin-archive-late-")));
    // Sealed three days ago with a one-day retention, while the store was down.
    const threeDaysAgo = { ...o.services, clock: { now: () => new Date(Date.now() - 3 * DAY) } };
    const sealer = new Archiver(threeDaysAgo, store, {
      batchSize: 4,
      maxAgeMs: 0,
      retentionDays: 1,
      log: () => undefined,
      prepare: async () => ({ ok: false, error: { message: "S3 down" } }),
    });
    expect((await sealer.runOnce()).sealed).toBeGreaterThan(0);
    const [past] = rowsOf<{ n: string }>(
      await o.services.db.execute(sql`select count(*)::text as n from audit_batches where archived_at is null and retain_until < now()`),
    );
    expect(Number(past!.n)).toBeGreaterThan(0);

    // The store is back today.
    const archiver = new Archiver(o.services, store, { batchSize: 4, maxAgeMs: 0, retentionDays: 1, log: () => undefined });
    const r = await archiver.runOnce();
    expect(r.failed).toBe(0);
    const [left] = rowsOf<{ n: string }>(await o.services.db.execute(sql`select count(*)::text as n from audit_batches where archived_at is null`));
    expect(Number(left!.n)).toBe(0);
    const keys = rowsOf<{ object_key: string }>(await o.services.db.execute(sql`select object_key from audit_batches order by tenant_id, first_idx`));
    for (const { object_key } of keys) {
      const head = await store.head(object_key);
      if (!head.ok || !head.value) throw new Error(`${object_key} not archived`);
      // Locked for (at least) the configured retention counted from the upload, never a date already past.
      expect(head.value.retainUntil?.getTime()).toBeGreaterThan(Date.now() + DAY - 60_000);
    }
    // The database records the retain-until the objects got, not the one that had run out.
    const [stale] = rowsOf<{ n: string }>(await o.services.db.execute(sql`select count(*)::text as n from audit_batches where retain_until < now()`));
    expect(Number(stale!.n)).toBe(0);
  });
});
