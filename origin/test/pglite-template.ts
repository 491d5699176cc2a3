import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { drizzle } from "drizzle-orm/pglite";
import { migrate } from "drizzle-orm/pglite/migrator";
import { migrationsFolder } from "../src/db/index.ts";
import { migrationsDigest } from "./migrations-digest.ts";

/**
 * An in-memory PGlite starts with initdb, 2–8 s of CPU on the 2-core CI box, and nearly every
 * origin test file starts one or more (startTestOrigin on "pglite"). A dump of a freshly migrated
 * database loads in about a third of that, so it is made once and every test database starts from
 * it (openDatabase's `pgliteTemplate`); the migrator still runs on each and finds nothing to do.
 *
 * The dump lives in the OS temp dir under a name that hashes PGlite's install path (its version) and every migration
 * file, so a changed migration or PGlite upgrade makes a new one. Test files run in separate
 * processes: the first to miss it builds it and renames it into place (two racing builders write
 * the same content; the rename is atomic), the rest read it.
 */
let cached: Promise<Blob> | undefined;

export function pgliteTemplate(): Promise<Blob> {
  cached ??= loadOrBuild(templatePath());
  return cached;
}

function templatePath(): string {
  // The installed PGlite's real path names its version (node_modules/.pnpm/@electric-sql+pglite@x.y.z/…).
  const pglite = realpathSync(createRequire(import.meta.url).resolve("@electric-sql/pglite"));
  return join(tmpdir(), `kakunin-pglite-template-${migrationsDigest(pglite)}.tar.gz`);
}

/** The dump at `path`, built there first when missing (exported for its test, with a path of its own). */
export async function loadOrBuild(path: string): Promise<Blob> {
  if (!existsSync(path)) {
    const client = new PGlite();
    try {
      await migrate(drizzle(client), { migrationsFolder });
      const dump = await client.dumpDataDir("gzip");
      const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
      writeFileSync(tmp, new Uint8Array(await dump.arrayBuffer()));
      renameSync(tmp, path);
    } finally {
      await client.close();
    }
  }
  // Read into memory (about 5 MB), not a Blob backed by the file (fs.openAsBlob): two test files
  // that both found no template each build and rename one into place, and a file-backed Blob of
  // the first cannot be read once the second replaced the file (NotReadableError), so every later
  // database of that test file failed to open (origin/test/pglite-template.test.ts).
  // PGlite decompresses a dump whose type says gzip.
  return new Blob([readFileSync(path)], { type: "application/x-gzip" });
}

/**
 * The same migrated database as a PGlite data directory on disk, for origins the tests start as
 * processes (test/support/system.ts copies it to `<KAKUNIN_DATA_DIR>/pglite` before the first
 * start, where the origin would otherwise run initdb and every migration: about 4 s of CPU each).
 * Built once per PGlite version and migration set under a temporary name and renamed into place.
 */
export async function pgliteTemplateDir(): Promise<string> {
  const path = templatePath().replace(/\.tar\.gz$/, ".dir");
  if (existsSync(path)) return path;
  const building = `${path}.${process.pid}.${randomBytes(4).toString("hex")}`;
  const client = new PGlite(building);
  try {
    await migrate(drizzle(client), { migrationsFolder });
  } finally {
    await client.close();
  }
  try {
    renameSync(building, path);
  } catch (e) {
    // Another process renamed its own copy into place first: use that one.
    rmSync(building, { recursive: true, force: true });
    if (!existsSync(path)) throw e;
  }
  return path;
}
