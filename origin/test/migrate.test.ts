import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { openDatabase, shippedMigrations } from "../src/db/index.ts";
import { migrateCommand } from "../src/migrate-command.ts";
import { agentBody, freshPostgresDatabase, postgresUrl, startTestOrigin } from "./harness.ts";

// `kakunin-origin migrate` as its own step, and an origin that never runs DDL (KAKUNIN_MIGRATE=off)
// under an app role without DDL rights — on PGlite and on real PostgreSQL.
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), "kakunin-migrate-"));
  dirs.push(d);
  return d;
};
const configFor = (dataDir: string, url?: string) =>
  loadConfig({ KAKUNIN_DATA_DIR: dataDir, KAKUNIN_MASTER_KEY: randomBytes(32).toString("base64"), ...(url ? { DATABASE_URL: url } : {}) });

describe("the migrations journal", () => {
  it("orders migrations by their 'when': an upgraded database skips an entry older than the last one it recorded", () => {
    // Drizzle applies only the journal entries whose `when` is newer than the last migration the
    // database recorded. An entry renumbered after a merge that keeps an older `when` is silently
    // skipped on every database already past it (test/upgrade.e2e.test.ts). 0016 is the one such
    // entry ever shipped; 0021 repairs the databases that skipped it. Any other fails here:
    // give the new migration a `when` after the last entry's instead.
    const repaired = new Set(["0016_console_sessions"]);
    const out = shippedMigrations().filter((m, i, all) => i > 0 && m.when <= Math.max(...all.slice(0, i).map((p) => p.when)) && !repaired.has(m.tag));
    expect(out).toEqual([]);
    expect(shippedMigrations().map((m) => m.tag)).toContain("0021_console_sessions_repair");
  });
});

describe("kakunin-origin migrate on PGlite", () => {
  it("applies every shipped migration once, then reports the database current; KAKUNIN_MIGRATE=off refuses a database that is behind", async () => {
    const dir = tempDir();
    const fresh = await openDatabase({ dir: join(dir, "pglite"), migrate: false }).then(
      () => "opened",
      (e: Error) => e.message,
    );
    expect(fresh).toMatch(new RegExp(`${shippedMigrations().length} migration\\(s\\) behind.*kakunin-origin migrate`));
    const logs: string[] = [];
    expect(await migrateCommand(configFor(dir), (l) => logs.push(l))).toBe(0);
    expect(logs[0]).toContain(`applied ${shippedMigrations().length} migration(s) to the pglite database`);
    expect(await migrateCommand(configFor(dir), (l) => logs.push(l))).toBe(0);
    expect(logs[1]).toContain("current; nothing to do");
    const db = await openDatabase({ dir: join(dir, "pglite"), migrate: false });
    try {
      expect(db.migrationsApplied).toEqual([]);
      await db.db.execute("select count(*) from agents");
    } finally {
      await db.close();
    }
  }, 120_000);
});

describe.skipIf(!postgresUrl())("kakunin-origin migrate on PostgreSQL, then an app role without DDL rights", () => {
  it("the migrate step runs as the owner; the origin runs as an app role with KAKUNIN_MIGRATE=off and serves certify and revoke", async () => {
    const database = await freshPostgresDatabase();
    const role = `kakunin_app_${randomBytes(4).toString("hex")}`;
    const password = randomBytes(12).toString("hex");
    const owner = new pg.Client({ connectionString: database.url });
    await owner.connect();
    try {
      const behind = await openDatabase({ url: database.url, migrate: false }).then(
        () => "opened",
        (e: Error) => e.message,
      );
      expect(behind).toContain("KAKUNIN_MIGRATE=off: run `kakunin-origin migrate` first");
      const logs: string[] = [];
      expect(await migrateCommand(configFor(tempDir(), database.url), (l) => logs.push(l))).toBe(0);
      expect(logs[0]).toContain(`applied ${shippedMigrations().length} migration(s) to the postgres database`);
      // The grants docs/operations.md and deploy/README.md give the app role: data, no DDL.
      await owner.query(`create role ${role} login password '${password}'`);
      await owner.query(`revoke create on schema public from public`);
      await owner.query(`grant usage on schema public, drizzle to ${role}`);
      await owner.query(`grant select, insert, update, delete on all tables in schema public to ${role}`);
      await owner.query(`grant usage, select on all sequences in schema public to ${role}`);
      await owner.query(`grant select on drizzle.__drizzle_migrations to ${role}`);
      const appUrl = new URL(database.url);
      appUrl.username = role;
      appUrl.password = password;
      const app = new pg.Client({ connectionString: appUrl.toString() });
      await app.connect();
      const ddl = await app.query("create table kakunin_ddl_probe (x int)").then(
        () => "created",
        (e: Error) => e.message,
      );
      await app.end();
      expect(ddl).toMatch(/permission denied/);

      const o = await startTestOrigin("postgres", { databaseUrl: appUrl.toString(), env: { KAKUNIN_MIGRATE: "off" } });
      try {
        const agent = await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() });
        expect(agent.status).toBe(201);
        const cert = await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent.body.data.id}/certify`);
        expect(cert.status).toBe(201);
        expect((await o.json("POST", `/v1/certificates/${cert.body.data.id}/revoke`, { body: { reason: "test" } })).status).toBe(200);
        expect((await o.json("GET", "/v1/audit/entries?limit=5")).status).toBe(200);
      } finally {
        await o.close();
      }
    } finally {
      await owner.end();
      await database.drop();
      const admin = new pg.Client({ connectionString: postgresUrl() });
      await admin.connect();
      await admin.query(`drop role if exists ${role}`);
      await admin.end();
    }
  }, 180_000);
});
