import { randomBytes } from "node:crypto";
import pg from "pg";
import { openDatabase } from "../src/db/index.ts";
import { migrationsDigest } from "./migrations-digest.ts";

/**
 * The name of a database on the test server that holds every shipped migration and nothing else,
 * for `create database … template` (harness.ts freshPostgresDatabase({ migrated: true })): copying
 * it is one file copy on the server, where migrating each test file's database from empty ran 24
 * migrations per origin started. It is made once per server and migration set (the name carries
 * the migrations' digest), by whichever test process gets there first, under an advisory lock;
 * it is built under a temporary name and renamed, so a run killed half-way leaves no half-migrated
 * template behind.
 */
const cached = new Map<string, Promise<string>>();

export function migratedPostgresTemplate(base: string): Promise<string> {
  let p = cached.get(base);
  if (!p) {
    p = ensureTemplate(base);
    cached.set(base, p);
    p.catch(() => cached.delete(base));
  }
  return p;
}

/** PostgreSQL's object_in_use: a backend that just closed its connection has not yet exited. */
const OBJECT_IN_USE = "55006";

/** Runs `fn`, retrying for a few seconds while the database it copies or renames still has a session. */
export async function whileInUse<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if ((e as { code?: string }).code !== OBJECT_IN_USE || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

async function ensureTemplate(base: string): Promise<string> {
  const name = `kakunin_tpl_${migrationsDigest()}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  try {
    // One builder per server; the others wait here and then find it made.
    await admin.query("select pg_advisory_lock(hashtext($1))", [name]);
    const exists = await admin.query("select 1 from pg_database where datname = $1", [name]);
    if (exists.rowCount === 0) {
      const building = `${name}_b${randomBytes(4).toString("hex")}`;
      await admin.query(`create database ${building}`);
      const url = new URL(base);
      url.pathname = `/${building}`;
      const database = await openDatabase({ url: url.toString() });
      await database.close();
      await whileInUse(() => admin.query(`alter database ${building} rename to ${name}`));
    }
    await admin.query("select pg_advisory_unlock(hashtext($1))", [name]);
  } finally {
    await admin.end();
  }
  return name;
}
