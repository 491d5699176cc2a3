import { execFileSync, spawn } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { MIGRATION_LOCK, openDatabase } from "../../origin/src/db/index.ts";
import { pollUntil } from "../support/system.ts";
import { ownPostgres, type OwnPostgres } from "./support.ts";

/**
 * The origin's start when PostgreSQL hangs (every server process SIGSTOPped: sockets open, nothing
 * answers) while the migrations run. They run on a connection of their own with no statement and
 * no query timeout (a step may legitimately take long), so until 2026-12-07 nothing ended the wait:
 * the origin's start hung forever, where docs/reliability.md promises a hung database is ended by
 * a client-side bound. Now a liveness probe on fresh connections tells a hung server from a long
 * migration step and fails the start.
 */
let pg0: OwnPostgres;
let url: string;
const crashes: unknown[] = [];
const onCrash = (e: unknown) => void crashes.push(e);

beforeAll(async () => {
  pg0 = await ownPostgres();
  execFileSync("psql", ["-q", "-d", pg0.url, "-c", "create database kakunin"]);
  url = pg0.url.replace(/\/postgres$/, "/kakunin");
  process.on("uncaughtException", onCrash);
}, 60_000);
afterAll(() => {
  pg0?.resume();
  process.off("uncaughtException", onCrash);
  pg0?.destroy();
});

const psql = (q: string) => execFileSync("psql", ["-qAt", "-d", url, "-c", q], { encoding: "utf8" }).trim();

it("a database that hangs during the migrations fails the start instead of hanging it forever", async () => {
  // Another origin holds the migration lock, so this start is in the middle of its migration step
  // (waiting for the lock) when the server freezes.
  const holder = spawn("psql", ["-qAt", "-d", url, "-c", `select pg_advisory_lock(${MIGRATION_LOCK})`, "-c", "select pg_sleep(3600)"], { stdio: "ignore" });
  const start = openDatabase({ url, connectTimeoutMs: 1000 }).then(
    (d) => ({ ok: true as const, d }),
    (e: unknown) => ({ ok: false as const, e }),
  );
  await pollUntil(async () => (psql("select count(*) from pg_locks where locktype = 'advisory' and not granted") === "1" ? true : undefined), 20_000, 100);
  pg0.freeze();
  const outcome = await start;
  pg0.resume();
  expect(outcome.ok).toBe(false);
  expect(crashes).toEqual([]);
  // The server back and the lock free: the next start migrates.
  // Its psql gone is not enough: a backend inside pg_sleep does not notice its client left.
  psql(`select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted and pid <> pg_backend_pid()`);
  holder.kill();
  const database = await openDatabase({ url, connectTimeoutMs: 5000 });
  await database.close();
}, 120_000);
