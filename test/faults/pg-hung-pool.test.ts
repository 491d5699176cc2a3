import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { isDatabaseUnavailable, openDatabase, rowsOfResult, type Database } from "../../origin/src/db/index.ts";
import { pollUntil } from "../support/system.ts";
import { ownPostgres, type OwnPostgres } from "./support.ts";

/**
 * The origin's PostgreSQL pool when the server hangs (every server process SIGSTOPped: sockets
 * open, nothing answers) in the middle of a transaction, then resumes. Only the client-side query
 * timeout ends the wait, and what the pool does with that connection afterwards decides whether
 * the origin recovers. Until 2026-12-07 (node-postgres + drizzle's transaction):
 * - a BEGIN that timed out was never released: the pool slot was lost for good (10 such and every
 *   request waited for a connection forever), and when the server later closed that connection
 *   (its idle-in-transaction timeout, an admin's pg_terminate_backend) the unhandled 'error' on the
 *   checked-out client ended the origin process;
 * - a statement that timed out inside a transaction, then its ROLLBACK (queued behind it, timing
 *   out too), left the connection open inside the transaction and went back to the pool: after the
 *   resume the next request's BEGIN joined that transaction and its COMMIT committed the writes of
 *   the request that had been answered 503.
 */
let pg: OwnPostgres;
let database: Database;
let url: string;
const crashes: unknown[] = [];
const onCrash = (e: unknown) => void crashes.push(e);

beforeAll(async () => {
  pg = await ownPostgres();
  execFileSync("psql", ["-q", "-d", pg.url, "-c", "create database kakunin"]);
  url = pg.url.replace(/\/postgres$/, "/kakunin");
  // Statement timeout 1 s: the client-side backstop (query_timeout) is 6 s.
  database = await openDatabase({ url, connectTimeoutMs: 1000, statementTimeoutMs: 1000 });
  await database.db.execute("create table drill (note text not null)");
  // What the origin's process does with an uncaught error: here, counted.
  process.on("uncaughtException", onCrash);
}, 60_000);
afterAll(async () => {
  pg?.resume();
  process.off("uncaughtException", onCrash);
  await database?.close().catch(() => undefined);
  pg?.destroy();
});

const psql = (q: string) => execFileSync("psql", ["-qAt", "-d", url, "-c", q], { encoding: "utf8" }).trim();
const notes = async () => rowsOfResult<{ note: string }>(await database.db.execute("select note from drill order by note")).map((r) => r.note);
/** The pool settles: every connection back and idle (none checked out by a request that ended). */
const settled = () =>
  pollUntil(
    async () => {
      const p = database.poolStats!();
      return p.total === p.idle && p.waiting === 0 ? p : undefined;
    },
    10_000,
    100,
  );

it("a BEGIN that times out gives its connection back, and the server closing it later ends nothing", async () => {
  await settled();
  pg.freeze();
  const failed = await database.db
    .transaction(async (tx) => {
      await tx.execute("insert into drill values ('begin-hung')");
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  pg.resume();
  expect(isDatabaseUnavailable(failed), String(failed)).toBe(true);
  const pool = await settled().then(
    (r) => r.value,
    () => database.poolStats!(),
  );
  expect(pool.total - pool.idle, "connections still checked out after the request ended").toBe(0);
  // The server ends every session of this database (what an idle-in-transaction timeout or a
  // failover does to a connection left inside a transaction): nothing may crash.
  psql("select pg_terminate_backend(pid) from pg_stat_activity where datname = 'kakunin' and pid <> pg_backend_pid()");
  await new Promise((r) => setTimeout(r, 500));
  expect(crashes.map(String)).toEqual([]);
  // And the pool serves again.
  await pollUntil(
    async () =>
      await database.db.execute("select 1").then(
        () => true,
        () => undefined,
      ),
    10_000,
    100,
  );
  expect(await notes()).toEqual([]);
}, 60_000);

it("a statement that times out inside a transaction: its writes are never committed by a later request", async () => {
  await settled();
  const failed = await database.db
    .transaction(async (tx) => {
      await tx.execute("insert into drill values ('answered-503')");
      pg.freeze();
      await tx.execute("insert into drill values ('answered-503, second write')");
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  pg.resume();
  expect(isDatabaseUnavailable(failed), String(failed)).toBe(true);
  // The next requests, on whatever connection the pool hands out.
  for (let i = 0; i < 3; i++) {
    await database.db.transaction(async (tx) => {
      await tx.execute(`insert into drill values ('later-${i}')`);
    });
  }
  expect(await notes()).toEqual(["later-0", "later-1", "later-2"]);
  expect(Number(psql("select count(*) from pg_stat_activity where datname = 'kakunin' and state like 'idle in transaction%'"))).toBe(0);
  expect(crashes.map(String)).toEqual([]);
}, 60_000);
