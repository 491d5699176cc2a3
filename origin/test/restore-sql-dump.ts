import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";

/**
 * Replays a plain-SQL `pg_dump` (row INSERTs, psql meta-commands removed) into an empty database:
 * a PGlite data directory (`{ pgliteDir }`, the embedded database an installation keeps under
 * KAKUNIN_DATA_DIR/pglite) or a PostgreSQL database (`{ url }`). One simple-protocol script, so
 * both servers run the dump's statements in order, triggers and constraints created after the rows
 * as pg_dump orders them. The session is closed afterwards: the dump sets search_path to '' for
 * itself only.
 */
export async function restoreSqlDump(target: { pgliteDir: string } | { url: string }, sql: string): Promise<void> {
  if ("url" in target) {
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
    return;
  }
  // PGlite creates only the last path segment of its data dir itself.
  mkdirSync(target.pgliteDir, { recursive: true });
  const db = new PGlite(target.pgliteDir);
  try {
    await db.exec(sql);
  } finally {
    await db.close();
  }
}
