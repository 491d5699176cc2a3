import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { createLocalArchive } from "../src/archive/local.ts";

/**
 * A small tmpfs when running as root (no mocks: the kernel answers ENOSPC), else undefined and the
 * test is skipped. Returns the mount point and the undo.
 */
function smallDisk(kib: number): { dir: string; undo: () => void } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "kakunin-archive-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k`, "tmpfs", dir], { stdio: "ignore" });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    undo: () => {
      execFileSync("umount", [dir], { stdio: "ignore" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const disk = smallDisk(512);
afterAll(() => disk?.undo());

// A full archive disk is an outage to retry (the archiver backs off and tries again), so every
// failed attempt must leave the directory as it found it. Before, each attempt left its hidden
// temp file behind (the partly written batch, or an empty file): never removed, they took the
// space the operator freed, and a long outage filled the directory with them.
it.skipIf(!disk)("a put that fails on a full disk leaves no temp file behind, and succeeds once there is room", async () => {
  const archiveDir = join(disk!.dir, "archive");
  const store = createLocalArchive(archiveDir);
  const body = new Uint8Array(randomBytes(200 * 1024));
  const opts = { retainUntil: new Date(Date.now() + 86_400_000), sha256Hex: createHash("sha256").update(body).digest("hex") };
  const key = "audit/00000000-0000-4000-8000-000000000000/000000000000-000000000099.jsonl";
  // Fill the disk, leaving less than the batch needs.
  mkdirSync(archiveDir, { recursive: true });
  writeFileSync(join(disk!.dir, "filler"), Buffer.alloc(400 * 1024));
  const tempFiles = () =>
    readdirSync(archiveDir, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(".tmp"));
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await store.put(key, body, opts);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe("unavailable");
  }
  expect(tempFiles()).toEqual([]);
  expect((await store.head(key)).ok && (await store.head(key))).toEqual({ ok: true, value: null });
  rmSync(join(disk!.dir, "filler"));
  const r = await store.put(key, body, opts);
  expect(r.ok).toBe(true);
  expect(tempFiles()).toEqual([]);
  expect(new Uint8Array((await store.get(key)).ok ? ((await store.get(key)) as { value: Uint8Array }).value : [])).toEqual(body);
});
