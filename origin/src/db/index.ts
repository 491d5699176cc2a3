import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { errorFields, processLogger } from "../observability/logger.ts";
import { causes, sqlStateIn } from "../causes.ts";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import { sql, type ExtractTablesWithRelations } from "drizzle-orm";
import { drizzle as drizzlePg, type NodePgDatabase } from "drizzle-orm/node-postgres";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import pg from "pg";
import { lockDataDir } from "./dir-lock.ts";
import { guardPool, poolTransaction } from "./pg-pool.ts";
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
  /** Migrations this open applied (tags; empty when the database was current or migrate was off). */
  migrationsApplied: string[];
  close(): Promise<void>;
}

/**
 * The SQL migrations: beside the running module in the compiled build (origin/dist/migrations,
 * copied by scripts/build.mjs), else the repository's migrations/ (running from source).
 */
export const migrationsFolder = [new URL("./migrations", import.meta.url), new URL("../../../migrations", import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((dir) => existsSync(join(dir, "meta", "_journal.json"))) ?? fileURLToPath(new URL("../../../migrations", import.meta.url));

/** Advisory lock key held while migrating ("kakunin migrate"), so several origins can start at once. */
export const MIGRATION_LOCK = 0x6b616b6d6967;

export interface OpenOptions {
  url?: string;
  dir?: string;
  /** PostgreSQL: give up on getting a connection after this long (the request answers 503). */
  connectTimeoutMs?: number;
  /** PostgreSQL: the server cancels statements running longer than this. */
  statementTimeoutMs?: number;
  /**
   * false: do not migrate (the app role may lack DDL rights; `kakunin-origin migrate` ran as a
   * separate deploy step) but refuse to open a database that is behind, naming what is pending.
   */
  migrate?: boolean;
  /**
   * In-memory PGlite only (tests): start from this dump (`dumpDataDir`) of an already migrated
   * database instead of running initdb, which costs seconds per test file. The migrator still runs
   * and applies whatever the dump lacks.
   */
  pgliteTemplate?: Blob;
}

/**
 * Opens the database and applies pending migrations. `url` selects real PostgreSQL; otherwise
 * PGlite in `dir` (undefined = in memory, for tests).
 */
export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.url) {
    const statementTimeout = opts.statementTimeoutMs ?? 15_000;
    const pool = new pg.Pool({
      connectionString: opts.url, max: 10,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      // Server-side limits: a slow statement is cancelled (57014), and a transaction left idle by
      // a stuck caller cannot hold its row locks forever.
      statement_timeout: statementTimeout,
      idle_in_transaction_session_timeout: idleInTransactionTimeout(statementTimeout),
      // Client-side backstop for a server that stops answering without closing the socket.
      query_timeout: statementTimeout + 5000,
      keepAlive: true,
    });
    // An idle connection the server closes (restart, failover, admin kill) is reported on the pool;
    // without a listener node-postgres turns it into an uncaught error that would end the process.
    // The pool replaces the connection on next use, so logging is all there is to do.
    pool.on("error", (e) => processLogger("db").warn("idle database connection lost", { event: "idle_connection_lost", ...errorFields(e) }));
    // A hung server: close timed-out connections, never pool one left inside a transaction (pg-pool.ts).
    guardPool(pool);
    const db = drizzlePg(pool, { schema });
    db.transaction = poolTransaction(pool, schema);
    let applied: string[] = [];
    try {
      if (opts.migrate === false) await refuseIfBehind(db as unknown as Db);
      else await migrateLocked(opts.url, opts.connectTimeoutMs ?? 5000, idleInTransactionTimeout(statementTimeout), async (mdb) => {
        applied = await pendingMigrations(mdb as unknown as Db);
        await migratePg(mdb, { migrationsFolder });
      });
    } catch (e) {
      await pool.end();
      throw e;
    }
    return {
      db: db as unknown as Db, driver: "postgres", close: () => pool.end(), migrationsApplied: applied,
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    };
  }
  // PGlite creates only the last path segment of its data dir itself.
  if (opts.dir) mkdirSync(opts.dir, { recursive: true });
  // Before PGlite opens it: a second origin on this dir would run on its own copy (dir-lock.ts).
  const unlock = opts.dir ? lockDataDir(opts.dir) : () => {};
  const client = opts.pgliteTemplate && !opts.dir ? new PGlite({ loadDataDir: opts.pgliteTemplate }) : new PGlite(opts.dir);
  const db = drizzlePglite(client, { schema });
  let applied: string[] = [];
  try {
    if (opts.migrate === false) await refuseIfBehind(db as unknown as Db);
    else {
      applied = await pendingMigrations(db as unknown as Db);
      await migratePglite(db, { migrationsFolder });
    }
  } catch (e) {
    await client.close();
    unlock();
    throw e;
  }
  const close = async () => {
    await client.close();
    unlock();
  };
  return { db: db as unknown as Db, driver: "pglite", close, migrationsApplied: applied };
}

/** The migrations this build ships (drizzle's journal), oldest first. */
export function shippedMigrations(): Array<{ tag: string; when: number }> {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, "meta", "_journal.json"), "utf8")) as { entries: Array<{ tag: string; when: number }> };
  return journal.entries;
}

/**
 * Migrations this build ships that the database has not applied. Drizzle's migrator applies every
 * journal entry newer than the last one recorded in drizzle.__drizzle_migrations; this asks the
 * same question without running anything (a read any app role can be granted).
 */
export async function pendingMigrations(db: Db): Promise<string[]> {
  let last = -1;
  try {
    const r = await db.execute(sql`select max(created_at)::float8 as v from drizzle.__drizzle_migrations`);
    const rows = (Array.isArray(r) ? r : (r as { rows: unknown[] }).rows) as Array<{ v: number | string | null }>;
    last = rows[0]?.v === null || rows[0]?.v === undefined ? -1 : Number(rows[0].v);
  } catch (e) {
    // No journal table: nothing was ever migrated. Anything else (e.g. no SELECT grant) is real.
    if (sqlState(e) !== "42P01" && sqlState(e) !== "3F000") throw e;
  }
  return shippedMigrations().filter((m) => m.when > last).map((m) => m.tag);
}

async function refuseIfBehind(db: Db): Promise<void> {
  const pending = await pendingMigrations(db);
  if (pending.length > 0) {
    throw new Error(`the database is ${pending.length} migration(s) behind this build (${pending.slice(0, 3).join(", ")}${pending.length > 3 ? ", …" : ""}) and KAKUNIN_MIGRATE=off: run \`kakunin-origin migrate\` first`);
  }
}

/**
 * Runs the migrations under a PostgreSQL advisory lock (two origins starting at once apply them
 * once), on a connection of their own with no statement timeout and no client-side query timeout:
 * a migration step may legitimately run longer than the pool's limits (an index build on a big
 * table), and a wait for the lock as long as another origin's migrations. Before, only the lock's
 * pool connection had `statement_timeout = 0`; drizzle's migrator ran on another pool connection
 * under the 15 s statement timeout and the 20 s client-side one, so a long step failed the start
 * (origin/test/database.test.ts).
 *
 * Without a query timeout, nothing but a liveness probe tells a long step from a server that hangs
 * (sockets open, nothing answers: TCP keepalives are answered by the kernel of a frozen server):
 * until 2026-12-07 such a server hung the origin's start forever (test/faults/pg-hung-migrate.test.ts).
 */
async function migrateLocked(url: string, connectTimeoutMs: number, idleTimeoutMs: number, migrate: (db: NodePgDatabase<Schema>) => Promise<void>): Promise<void> {
  // The migrator sends its statements back to back, so its transaction is idle only when this
  // origin is frozen or gone: then the server ends it, and with it the ACCESS EXCLUSIVE locks of
  // the tables it altered and the migration lock, instead of waiting for TCP keepalive (2 h).
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true, statement_timeout: 0, idle_in_transaction_session_timeout: idleTimeoutMs });
  // A server that drops the connection mid-migration fails the start with its error, not an uncaught one.
  client.on("error", (e) => processLogger("db").warn("migration connection lost", { event: "migration_connection_lost", ...errorFields(e) }));
  let hung = false;
  const watch = watchServer(url, connectTimeoutMs, () => {
    hung = true;
    processLogger("db").error("database not answering during migrations", { event: "migration_server_hung" });
    // With a query on the wire, end() destroys the socket at once: the query fails, and so the start.
    void client.end().catch(() => undefined);
  });
  try {
    await client.connect();
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await migrate(drizzlePg(client, { schema }));
    // Not in a finally: after a failure the session's end (below) releases the lock, and an unlock
    // on a dead connection would replace the migration's own error with its own.
    await client.query("select pg_advisory_unlock($1)", [MIGRATION_LOCK]);
  } catch (e) {
    if (hung) throw new Error(`the database stopped answering during the migrations (no answer to a new connection within ${connectTimeoutMs} ms, ${PROBE_FAILURES} times in a row)`, { cause: e });
    throw e;
  } finally {
    watch.stop();
    await client.end().catch(() => undefined);
  }
}

/** How long the server lets a transaction sit idle before it ends the session (pool and migrations). */
function idleInTransactionTimeout(statementTimeoutMs: number): number {
  return Math.max(statementTimeoutMs * 2, 30_000);
}

/** Probes in a row that must get no answer at all before the migrations are abandoned. */
const PROBE_FAILURES = 3;

/**
 * Every `connectTimeoutMs` (at least 1 s), opens a fresh connection and runs `select 1`, each
 * bounded by `connectTimeoutMs`; `onHung` once after PROBE_FAILURES probes in a row got no answer.
 * A probe the server refuses with an error of its own (too many connections: a SQLSTATE) is an
 * answer: the server is alive, and a long migration step is left alone.
 */
function watchServer(url: string, connectTimeoutMs: number, onHung: () => void): { stop(): void } {
  const every = Math.max(1000, connectTimeoutMs);
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  const probe = async (): Promise<boolean> => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: every, query_timeout: every });
    c.on("error", () => undefined);
    try {
      await c.connect();
      await c.query("select 1");
      return true;
    } catch (e) {
      return e instanceof pg.DatabaseError;
    } finally {
      // Not awaited: on a hung server a graceful end waits for an answer that never comes.
      void c.end().catch(() => undefined);
    }
  };
  const tick = async (): Promise<void> => {
    const alive = await probe();
    if (stopped) return;
    failures = alive ? 0 : failures + 1;
    if (failures >= PROBE_FAILURES) {
      stopped = true;
      onHung();
      return;
    }
    timer = setTimeout(() => void tick(), every);
    timer.unref();
  };
  timer = setTimeout(() => void tick(), every);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Postgres SQLSTATE of a failed query, looking through drizzle's wrapper error. */
export function sqlState(e: unknown): string | undefined {
  return sqlStateIn(e, 4);
}

export const UNIQUE_VIOLATION = "23505";

/**
 * PostgreSQL aborted the transaction because of a concurrent one: 40001 serialization_failure,
 * 40P01 deadlock_detected (it broke a deadlock by aborting this side), 55P03 lock_not_available (a
 * lock wait over lock_timeout). Nothing was committed and a retry succeeds (PostgreSQL's manual
 * says to retry these), so the request is the server's 503 with Retry-After, not a 500.
 */
export function isTransientConflict(e: unknown): boolean {
  const state = sqlState(e);
  return state === "40001" || state === "40P01" || state === "55P03";
}

/**
 * Whether an error means the database is unreachable or overloaded rather than that the query is
 * wrong: connection refused/reset/timed out, the server shutting down or not accepting
 * connections (SQLSTATE class 08, 57P01–57P03), a statement cancelled by its timeout (57014), or
 * a database that only reads (25006: a standby after failover), or storage that refuses writes
 * (isStorageFault: an embedded database on a read-only or full filesystem).
 * Such requests answer 503 with Retry-After; nothing was committed.
 */
export function isDatabaseUnavailable(e: unknown): boolean {
  const state = sqlState(e);
  // 25006 read_only_sql_transaction: a standby after failover, or the primary set read-only; the
  // write is refused whole and a retry against the new primary succeeds, so it is 503 like the rest.
  if (state && (state.startsWith("08") || state === "57P01" || state === "57P02" || state === "57P03" || state === "57014" || state === "53300" || state === "25006")) return true;
  if (isStorageFault(e)) return true;
  for (const cur of causes(e, 4)) {
    if (typeof cur === "object" && cur && "code" in cur && typeof cur.code === "string" && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND)$/.test(cur.code)) return true;
    const msg = cur instanceof Error ? cur.message : "";
    if (/timeout exceeded when trying to connect|Connection terminated|Query read timeout|connection timeout|Client has encountered a connection error|Client was closed and is not queryable|write ECONNRESET|read ECONNRESET|ECONNREFUSED/i.test(msg)) return true;
  }
  return false;
}

/**
 * The database's own files cannot be written: the filesystem under PGlite's data dir was remounted
 * read-only (what ext4 does after an I/O error), a volume is mounted read-only, the disk is full,
 * or the files lost their write permission. PostgreSQL (and PGlite, which is PostgreSQL) reports
 * these as 53100 disk_full, class 58 (io_error, and PGlite's file layer answers a retried create
 * on a read-only mount with 58P02 "could not create file …: File exists"), or 42501 with a "could
 * not open/create/write file" message (errcode_for_file_access maps EACCES, EPERM and EROFS to
 * 42501). The last is told
 * apart from a missing GRANT ("permission denied for table …", also 42501) by its message: a
 * missing grant is a configuration bug, a file that cannot be written is an outage to retry.
 */
export function isStorageFault(e: unknown): boolean {
  const state = sqlState(e);
  if (state === "53100" || state?.startsWith("58")) return true;
  if (state !== "42501") return false;
  for (const cur of causes(e, 4)) {
    if (cur instanceof Error && /could not (open|create|write|extend|fsync|truncate|rename|unlink|remove)[^:]*(file|directory)/i.test(cur.message)) return true;
  }
  return false;
}

/** Rows of a raw `execute()` result, whichever driver ran it (both wrap them in `.rows`). */
export function rowsOfResult<T>(result: unknown): T[] {
  if (result && typeof result === "object" && "rows" in result && Array.isArray(result.rows)) return result.rows as T[];
  return Array.isArray(result) ? (result as T[]) : [];
}
