import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";

/** The lock file inside an embedded database's data dir. */
export const LOCK_FILE = "kakunin-origin.lock";

/** The pid in a lock file, or undefined when it cannot be read as one. */
function holder(path: string): number | undefined {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else, which still means the dir is in use.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the embedded database's data dir for this process, or refuses. PGlite has no lock of its
 * own: two origins started on one KAKUNIN_DATA_DIR both ran, each on its own copy in memory, both
 * acknowledging writes, and whichever wrote last kept its own; the other's acknowledged agents and
 * audit entries were gone at the next start. A lock file holding the pid is the guard (a stale one,
 * whose process is gone, is taken over). The same process may open its dir again (tests restart an
 * origin in-process). Returns the release function.
 */
export function lockDataDir(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => release(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = holder(path);
      if (pid === process.pid) return () => release(path);
      if (pid !== undefined && alive(pid)) {
        throw new Error(
          `data dir ${dir} is in use by another origin (pid ${pid}); stop it first or use another KAKUNIN_DATA_DIR (if no origin is running, remove ${path})`,
        );
      }
      // Stale: its process is gone (a crash or kill -9). Take it over.
      try {
        unlinkSync(path);
      } catch {
        // Another starter removed it first; the next attempt decides.
      }
    }
  }
  throw new Error(`data dir ${dir}: could not take its lock ${path}; another origin is starting on it`);
}

function release(path: string): void {
  if (holder(path) !== process.pid) return;
  try {
    unlinkSync(path);
  } catch {
    // Already gone: nothing to release.
  }
}
