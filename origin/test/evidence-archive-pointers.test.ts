import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EvidenceBundle } from "@kakunin/shared";
import { createLocalArchive } from "../src/archive/local.ts";
import type { ArchiveStore } from "../src/archive/types.ts";
import { Archiver } from "../src/audit/archiver.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

// On S3 a key is not one object: Object Lock forbids deleting or shortening a locked version, not
// putting another version on top, and a plain GET returns the newest (test/archive-check.e2e.test.ts
// does it on Ceph RGW). The origin records which version it archived, but the bundle's pointers
// named only the key, so an auditor following one could fetch a forged version and had no way to
// ask for the archived one.
describe("evidence archive pointers name the archived version", () => {
  let o: TestOrigin;
  const dir = mkdtempSync(join(tmpdir(), "kakunin-evidence-pointers-"));
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
  });
  afterAll(async () => {
    await o.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("version_id and retain_until as the archive accepted them", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const local = createLocalArchive(dir);
    // A store that, like S3, answers with a version id.
    let n = 0;
    const versioned: ArchiveStore = {
      kind: "local",
      head: (k) => local.head(k),
      get: (k) => local.get(k),
      put: async (k, b, opts) => {
        const r = await local.put(k, b, opts);
        return r.ok ? { ok: true, value: { ...r.value, versionId: `v-${++n}` } } : r;
      },
    };
    const r = await new Archiver(o.services, versioned, { batchSize: 2, maxAgeMs: 0, log: () => undefined }).runOnce();
    expect(r.failed).toBe(0);
    const bundle = (await o.json<{ data: EvidenceBundle }>("GET", `/v1/agents/${agent}/evidence`)).body.data;
    expect(bundle.archive.length).toBeGreaterThan(0);
    for (const p of bundle.archive) {
      expect(p).toMatchObject({ version_id: expect.stringMatching(/^v-\d+$/), retain_until: expect.any(String) });
      const head = await local.head(p.object_key);
      expect(head.ok && head.value?.retainUntil?.toISOString()).toBe(
        new Date(Math.ceil(Date.parse((p as { retain_until: string }).retain_until) / 1000) * 1000).toISOString(),
      );
    }
  });
});
