import { randomUUID } from "node:crypto";
import { chmod, link, mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { err, ok, type Result } from "@kakunin/shared";
import type { ArchiveError, ArchiveHead, ArchivePutOptions, ArchivePutResult, ArchiveStore } from "./types.ts";
import { checkKey, isSha256Hex, preparePut, SIDECAR_SUFFIX } from "./validate.ts";

const READ_ONLY = 0o444;

/**
 * Audit batches as files under `dir`, for development and single-node installs. Write-once is
 * enforced by this code (never overwrite, files 0444), not by the storage: anyone with write
 * access to the directory (root, the service account) can still delete. Use S3 Object Lock
 * where the archive has to survive a compromised host.
 */
export function createLocalArchive(dir: string): ArchiveStore {
  const pathOf = (segments: string[]): string => join(dir, ...segments);

  async function put(key: string, body: Uint8Array, opts: ArchivePutOptions): Promise<Result<ArchivePutResult, ArchiveError>> {
    const prep = preparePut(key, body, opts);
    if (!prep.ok) return prep;
    const p = prep.value;
    const file = pathOf(p.segments);
    const sidecar = JSON.stringify({ sha256: p.sha256Hex, retainUntil: p.retainUntilIso }, null, 2) + "\n";
    try {
      await mkdir(dir, { recursive: true });
    } catch (e) {
      // Whatever the errno, a base directory that can't be created is the operator's to fix.
      return err({ code: "misconfigured", message: fsError(`archive dir ${dir}`, e).message });
    }
    try {
      await mkdir(dirname(file), { recursive: true });
      // Not a plain rename: link() refuses an existing target, so two writers racing on one key
      // cannot replace each other's bytes; the loser compares instead.
      if ((await writeOnce(file, body)) === "exists") {
        const stored = await readFile(file);
        if (!stored.equals(body)) {
          return err({ code: "rejected", message: `archive key ${key} already holds different content` });
        }
      }
      // Also written when the data file already existed: repairs a crash between the two writes.
      // An existing sidecar is kept, so a retry cannot change the recorded retention.
      await writeOnce(file + SIDECAR_SUFFIX, new TextEncoder().encode(sidecar));
      await syncDir(dirname(file));
      return ok({ versionId: null, etag: p.md5Hex });
    } catch (e) {
      return err(fsError(`put ${key}`, e));
    }
  }

  async function head(key: string): Promise<Result<ArchiveHead | null, ArchiveError>> {
    const segments = checkKey(key);
    if (!segments.ok) return segments;
    const file = pathOf(segments.value);
    try {
      if (!(await stat(file)).isFile()) return ok(null);
    } catch (e) {
      return notFound(e) ? ok(null) : err(fsError(`head ${key}`, e));
    }
    let meta: unknown = null;
    try {
      meta = JSON.parse(await readFile(file + SIDECAR_SUFFIX, "utf8"));
    } catch (e) {
      // A missing or unreadable sidecar means "unknown", like an S3 object without our metadata.
      if (!notFound(e) && !(e instanceof SyntaxError)) return err(fsError(`head ${key}`, e));
    }
    const sha = field(meta, "sha256");
    const until = Date.parse(String(field(meta, "retainUntil")));
    return ok({
      sha256Hex: isSha256Hex(sha) ? sha : null,
      retainUntil: Number.isFinite(until) ? new Date(until) : null,
      versionId: null,
    });
  }

  async function get(key: string): Promise<Result<Uint8Array | null, ArchiveError>> {
    const segments = checkKey(key);
    if (!segments.ok) return segments;
    try {
      return ok(new Uint8Array(await readFile(pathOf(segments.value))));
    } catch (e) {
      return notFound(e) ? ok(null) : err(fsError(`get ${key}`, e));
    }
  }

  return { kind: "local", put, head, get };
}

/**
 * Complete file at `path` or nothing: written to a hidden temp file, fsynced, then linked. The temp
 * file is removed whatever happens: a write that fails (a full disk) is retried later, and each
 * attempt's partly written file, left behind, took the room the next one needed.
 */
async function writeOnce(path: string, bytes: Uint8Array): Promise<"written" | "exists"> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomUUID()}.tmp`);
  const fh = await open(tmp, "wx", READ_ONLY);
  try {
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(tmp, READ_ONLY); // the mode given to open() is narrowed by the umask
    await link(tmp, path);
    return "written";
  } catch (e) {
    if (errno(e) === "EEXIST") return "exists";
    throw e;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Makes the new directory entries durable, not only the file contents. */
async function syncDir(path: string): Promise<void> {
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function field(obj: unknown, name: string): unknown {
  return typeof obj === "object" && obj !== null ? (obj as Record<string, unknown>)[name] : undefined;
}

function errno(e: unknown): string | undefined {
  const code = field(e, "code");
  return typeof code === "string" ? code : undefined;
}

function notFound(e: unknown): boolean {
  const code = errno(e);
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}

function fsError(what: string, e: unknown): ArchiveError {
  const code = errno(e);
  const message = `local archive ${what}: ${e instanceof Error ? e.message : String(e)}`;
  // The directory itself is wrong (permissions, read-only mount): an operator has to fix it.
  if (code === "EACCES" || code === "EPERM" || code === "EROFS") return { code: "misconfigured", message };
  // The key collides with another key's directory/file ("a" vs "a/b"): this request can't succeed.
  if (code === "ENOTDIR" || code === "EISDIR" || code === "EEXIST") return { code: "rejected", message };
  return { code: "unavailable", message }; // ENOSPC, EIO, EMFILE...: may pass on retry
}
