import { copyFileSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/index.ts";
import { loadOrBuild } from "./pglite-template.ts";

describe("the migrated PGlite template dump (pglite-template.ts)", () => {
  // A path of this test's own: replacing the shared template under other running test files
  // would break them the way this test shows.
  const dir = mkdtempSync(join(tmpdir(), "kakunin-template-test-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("still opens after another test process renamed its own build into place", async () => {
    const path = join(dir, "template.tar.gz");
    const template = await loadOrBuild(path);
    // Two test files that both found no template build one each; the later rename replaces the
    // file the first one already loaded (the same migrations, other bytes: PGlite's dump differs
    // per build). Done here with a copy, renamed over it as the builder does.
    copyFileSync(path, `${path}.other`);
    renameSync(`${path}.other`, path);
    // Before: the Blob was backed by the replaced file (fs.openAsBlob), and every later database
    // of that test process failed to open with NotReadableError.
    const database = await openDatabase({ pgliteTemplate: template });
    try {
      expect(database.driver).toBe("pglite");
    } finally {
      await database.close();
    }
  }, 120_000);
});
