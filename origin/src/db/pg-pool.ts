import type { ExtractTablesWithRelations } from "drizzle-orm";
import { drizzle, type NodePgDatabase, type NodePgTransaction } from "drizzle-orm/node-postgres";
import type { PgTransactionConfig } from "drizzle-orm/pg-core";
import type pg from "pg";
import { causes } from "../causes.ts";
import { errorFields, processLogger } from "../observability/logger.ts";

/**
 * What the origin's PostgreSQL pool does when the server hangs (a frozen VM, a storage stall, a
 * blackholed network: sockets stay open and nothing answers) rather than goes down. Only the
 * client-side `query_timeout` ends such a wait, and node-postgres then leaves the connection as it
 * was: its statement still outstanding, often inside a transaction. drizzle's pool transaction
 * made three faults of that (test/faults/pg-hung-pool.test.ts):
 *
 * - its ROLLBACK queued behind the hung statement and waited out a second timeout;
 * - a timed-out BEGIN was never released: the pool slot was lost for good, `close()` waited for it
 *   forever, and when the server later closed that connection the 'error' on a checked-out client
 *   nobody listened to ended the process;
 * - after a timed-out statement and ROLLBACK the connection went back to the pool still inside the
 *   transaction, so after the server resumed the next request's BEGIN joined it and its COMMIT
 *   committed the writes of a request already answered 503.
 *
 * So a connection whose statement timed out is closed at once (the server, when it wakes, reads
 * end-of-file and rolls back), and a transaction's connection goes back to the pool only when it
 * ended outside any transaction; otherwise the pool discards it and opens a new one.
 */
export function guardPool(pool: pg.Pool): void {
  const inUse = new WeakSet<pg.PoolClient>();
  pool.on("acquire", (client) => inUse.add(client));
  pool.on("release", (_err, client) => inUse.delete(client));
  pool.on("connect", (client) => {
    // The pool listens only while a connection is idle (pool.on("error") in index.ts logs those).
    client.on("error", (e) => {
      if (inUse.has(client)) processLogger("db").warn("database connection lost while in use", { event: "connection_lost", ...errorFields(e) });
    });
    closeOnReadTimeout(client);
  });
}

/** node-postgres's message when `query_timeout` passes without an answer. */
function isReadTimeout(e: unknown): boolean {
  for (const c of causes(e, 4)) if (c instanceof Error && c.message === "Query read timeout") return true;
  return false;
}

/** The timeout that closed a connection, for the transaction that was using it (see poolTransaction). */
const closedBy = new WeakMap<pg.PoolClient, unknown>();

function closeOnReadTimeout(client: pg.PoolClient): void {
  const query: (...args: unknown[]) => unknown = client.query;
  const guarded = (...args: unknown[]): unknown => {
    const result: unknown = Reflect.apply(query, client, args);
    // Registered before the caller's handlers, so the connection is closed before a ROLLBACK is
    // queued behind the statement that is still waiting (it then fails at once).
    if (result instanceof Promise) {
      result.catch((e: unknown) => {
        if (!isReadTimeout(e)) return;
        closedBy.set(client, e);
        void client.end().catch(() => undefined);
      });
    }
    return result;
  };
  client.query = guarded as typeof client.query;
}

type Schemaed<S extends Record<string, unknown>> = NodePgDatabase<S>;
type Tx<S extends Record<string, unknown>> = NodePgTransaction<S, ExtractTablesWithRelations<S>>;

/**
 * `db.transaction` for a pool: drizzle's transaction on a checked-out connection, which is always
 * given back (also when BEGIN fails), and discarded unless it ended outside a transaction. A
 * connection closed by its timeout or lost is discarded by the pool itself (it checks), so a
 * statement the server cancelled (57014) or a deadlock does not cost a reconnect.
 */
export function poolTransaction<S extends Record<string, unknown>>(pool: pg.Pool, schema: S) {
  const onClient = new WeakMap<pg.PoolClient, Schemaed<S>>();
  return async <T>(fn: (tx: Tx<S>) => Promise<T>, config?: PgTransactionConfig): Promise<T> => {
    const client = await pool.connect();
    let failure: unknown;
    try {
      let db = onClient.get(client);
      if (!db) {
        db = drizzle(client, { schema });
        onClient.set(client, db);
      }
      return await db.transaction(fn, config);
    } catch (e) {
      // drizzle throws the failed ROLLBACK's error ("Client was closed"); the statement that timed
      // out is what happened, and what the log should say.
      failure = closedBy.get(client) ?? e;
      throw failure;
    } finally {
      const reusable = client.getTransactionStatus() === "I" && !closedBy.has(client);
      client.release(reusable ? undefined : failure instanceof Error ? failure : new Error("connection left inside a transaction"));
    }
  };
}
