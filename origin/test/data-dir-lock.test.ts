import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LOCK_FILE } from "../src/db/dir-lock.ts";
import { openDatabase } from "../src/db/index.ts";

/** A process that lives until killed: stands in for another origin holding the dir. */
function otherProcess() {
  const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  return {
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}

describe("the embedded database's data dir is one origin's", () => {
  it("a second origin on a dir in use is refused with one line naming the holder; nothing is opened", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kakunin-lock-"));
    const other = otherProcess();
    try {
      writeFileSync(join(dir, LOCK_FILE), `${other.pid}\n`);
      await expect(openDatabase({ dir })).rejects.toThrow(`data dir ${dir} is in use by another origin (pid ${other.pid})`);
      expect(existsSync(join(dir, "PG_VERSION"))).toBe(false);
    } finally {
      await other.stop();
    }
    // Its holder gone (a crash, kill -9): the lock is stale and taken over.
    const db = await openDatabase({ dir });
    expect(readFileSync(join(dir, LOCK_FILE), "utf8").trim()).toBe(String(process.pid));
    await db.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  }, 60_000);

  it("the lock is taken while open and released on close, so a restart reopens the dir", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kakunin-lock-"));
    const first = await openDatabase({ dir });
    expect(readFileSync(join(dir, LOCK_FILE), "utf8").trim()).toBe(String(process.pid));
    await first.close();
    const again = await openDatabase({ dir });
    await again.close();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  }, 60_000);
});
