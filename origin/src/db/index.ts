import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { ExtractTablesWithRelations } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import * as schema from "./schema.ts";

export type Schema = typeof schema;
/** Both drivers are used through this one type; the SQL they run is identical. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
/** Anything queries can run on: the database or a transaction inside it. */
export type Queryable = Db | Tx;

export interface Database {
  db: Db;
  driver: "pglite" | "postgres";
  /** Connection pool counts (PostgreSQL only), for kakunin_db_pool_connections. */
  poolStats?(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/**
 * The SQL migrations: beside the running module in the compiled build (origin/dist/migrations,
 * copied by scripts/build.mjs), else the repository's migrations/ (running from source).
 */
export const migrationsFolder = [new URL("./migrations", import.meta.url), new URL("../../../migrations", import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((dir) => existsSync(join(dir, "meta", "_journal.json"))) ?? fileURLToPath(new URL("../../../migrations", import.meta.url));

/**
 * Opens the database and applies pending migrations. `url` selects real PostgreSQL; otherwise
 * PGlite in `dir` (undefined = in memory, for tests).
 */
export async function openDatabase(opts: { url?: string; dir?: string }): Promise<Database> {
  if (opts.url) {
    const pool = new pg.Pool({ connectionString: opts.url, max: 10 });
    // An idle connection the server closes (restart, failover, admin kill) is reported on the pool;
    // without a listener node-postgres turns it into an uncaught error that would end the process.
    // The pool replaces the connection on next use, so logging is all there is to do.
    pool.on("error", (e) => console.warn(`[origin] idle database connection lost: ${e.message}`));
    const db = drizzlePg(pool, { schema });
    await migratePg(db, { migrationsFolder });
    return {
      db: db as unknown as Db, driver: "postgres", close: () => pool.end(),
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    };
  }
  // PGlite creates only the last path segment of its data dir itself.
  if (opts.dir) mkdirSync(opts.dir, { recursive: true });
  const client = new PGlite(opts.dir);
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder });
  return { db: db as unknown as Db, driver: "pglite", close: () => client.close() };
}

/** Postgres SQLSTATE of a failed query, looking through drizzle's wrapper error. */
export function sqlState(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 4; depth++) {
    if (typeof cur === "object" && "code" in cur && typeof cur.code === "string" && /^[0-9A-Z]{5}$/.test(cur.code)) {
      return cur.code;
    }
    cur = typeof cur === "object" && "cause" in cur ? cur.cause : undefined;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = "23505";

/** Rows of a raw `execute()` result, whichever driver ran it (both wrap them in `.rows`). */
export function rowsOfResult<T>(result: unknown): T[] {
  if (result && typeof result === "object" && "rows" in result && Array.isArray(result.rows)) return result.rows as T[];
  return Array.isArray(result) ? (result as T[]) : [];
}
