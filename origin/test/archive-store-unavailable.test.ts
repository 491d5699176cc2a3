import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLocalArchive } from "../src/archive/local.ts";
import type { ArchiveStore } from "../src/archive/types.ts";
import { Archiver } from "../src/audit/archiver.ts";
import { auditBatches } from "../src/db/schema.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

// A store that times out or answers 5xx is down for every key. The archiver used to try every
// tenant's next batch and every queued signed tree head (up to 200) in the same pass anyway: against
// a hung S3 that is one 10 s timeout each, so a pass ran for minutes before it failed, logged or
// backed off, and /readyz named nothing meanwhile (test/faults/s3-hung.test.ts with a real RGW).
describe("an unavailable store ends the pass; a tenant that keeps failing holds up no other", () => {
  let o: TestOrigin;
  let other: string;
  const dir = mkdtempSync(join(tmpdir(), "kakunin-archive-unavailable-"));
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
    other = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: "archive-unavailable" } })).body.data.admin_api_key;
  });
  afterAll(async () => {
    await o.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const writes = async (key: string | undefined, n: number): Promise<void> => {
    for (let i = 0; i < n; i++) {
      expect((await o.json("POST", "/v1/agents", { key, body: agentBody({ name: `unavailable-${i}` }) })).status).toBe(201);
      expect((await o.json("GET", "/v1/audit/tree-head", { key })).status).toBe(200); // a signed head per write
    }
  };

  it("a hung store: one timed-out batch and one timed-out head per pass, then everything once it answers", async () => {
    await writes(undefined, 4);
    await writes(other, 4);
    const local = createLocalArchive(dir);
    let puts = 0;
    const down: ArchiveStore = {
      kind: "local",
      head: (k) => local.head(k),
      get: (k) => local.get(k),
      put: async () => {
        puts++;
        return { ok: false, error: { code: "unavailable", message: "S3 HEAD: no answer within 10000 ms" } };
      },
    };
    const r = await new Archiver(o.services, down, { batchSize: 2, maxAgeMs: 0, instanceId: "one-origin", log: () => undefined }).runOnce();
    expect(r.failed).toBeGreaterThan(0);
    expect(puts).toBe(2);

    const ok = await new Archiver(o.services, local, { batchSize: 2, maxAgeMs: 0, instanceId: "one-origin", log: () => undefined }).runOnce(); // restarted: same instance
    expect(ok.failed).toBe(0);
    expect(await o.services.db.select().from(auditBatches).where(isNull(auditBatches.archivedAt))).toEqual([]);
  });

  it("one tenant's uploads keep failing as unavailable: the other tenant's batches are archived all the same", async () => {
    await writes(undefined, 4);
    await writes(other, 4);
    const local = createLocalArchive(dir);
    const tenants = (await o.services.db.select({ t: auditBatches.tenantId }).from(auditBatches)).map((b) => b.t);
    const [first] = [...new Set(tenants)].sort(); // the tenant the pass reaches first
    const oneBad: ArchiveStore = {
      kind: "local",
      head: (k) => local.head(k),
      get: (k) => local.get(k),
      put: async (k, b, opts) =>
        k.startsWith(`audit/${first}/`) ? { ok: false, error: { code: "unavailable", message: "HTTP 503 SlowDown" } } : local.put(k, b, opts),
    };
    const a = new Archiver(o.services, oneBad, { batchSize: 2, maxAgeMs: 0, log: () => undefined });
    for (let i = 0; i < 3; i++) await a.runOnce();
    const pending = await o.services.db.select().from(auditBatches).where(isNull(auditBatches.archivedAt));
    expect(pending.length).toBeGreaterThan(0);
    expect(pending.every((b) => b.tenantId === first)).toBe(true);
  });
});
