import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { MIGRATION_LOCK, migrationsFolder, openDatabase, sqlState, UNIQUE_VIOLATION } from "../src/db/index.ts";
import { certificates } from "../src/db/schema.ts";
import { agentBody, dbKinds, freshPostgresDatabase, rowsOf, startTestOrigin, type TestOrigin } from "./harness.ts";

describe.each(dbKinds())("database invariants on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => { o = await startTestOrigin(kind); });
  afterAll(async () => { await o.close(); });

  it("two concurrent certify calls: exactly one 201 and one 409", async () => {
    for (let round = 0; round < 3; round++) {
      const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      const results = await Promise.all([o.json("POST", `/v1/agents/${id}/certify`), o.json("POST", `/v1/agents/${id}/certify`)]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
      const rows = await o.services.db.select().from(certificates).where(eq(certificates.agentId, id));
      expect(rows.filter((r) => r.status === "active")).toHaveLength(1);
    }
  });

  it("eight concurrent certify calls: still exactly one certificate", async () => {
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const results = await Promise.all(Array.from({ length: 8 }, () => o.json("POST", `/v1/agents/${id}/certify`)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(7);
  });

  it("the partial unique index refuses a second active certificate even when code is bypassed", async () => {
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const first = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${id}/certify`)).body.data.id;
    const [row] = await o.services.db.select().from(certificates).where(eq(certificates.id, first));
    // A different serial (the first byte changed, never to the one it already has: 1 in 128 serials start 7f).
    const prefix = row!.serialNumber.startsWith("7f") ? "7e" : "7f";
    const copy = { ...row!, id: randomUUID(), serialNumber: prefix + row!.serialNumber.slice(2) };
    let state: string | undefined;
    try {
      await o.services.db.insert(certificates).values(copy);
    } catch (e) {
      state = sqlState(e);
    }
    expect(state).toBe(UNIQUE_VIOLATION);
    // A revoked second row is fine: the index covers only status = 'active'.
    await o.services.db.insert(certificates).values({ ...copy, status: "revoked", revokedAt: new Date(), revocationReason: "test" });
  });

  it("status columns only take the documented values", async () => {
    await expect(o.services.db.execute(sql`update agents set status = 'bogus'`)).rejects.toThrow();
    await expect(o.services.db.execute(sql`update certificates set status = 'bogus'`)).rejects.toThrow();
  });

  it("no private key material is stored in the clear", async () => {
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { kms_key_arn: string } }>("POST", `/v1/agents/${id}/certify`)).body.data;
    const dump = JSON.stringify(await o.services.db.execute(sql`select * from certificates`));
    expect(dump).not.toMatch(/PRIVATE KEY/);
    expect(dump).toContain(cert.kms_key_arn);
    // local_keys holds only AES-GCM sealed PKCS#8: the rsaEncryption OID of a clear PKCS#8 never shows.
    const list = rowsOf<{ sealed: string }>(await o.services.db.execute(sql`select encode(sealed_private_key, 'hex') as sealed from local_keys`));
    expect(list.length).toBeGreaterThan(0);
    for (const r of list) expect(r.sealed).not.toContain("2a864886f70d010101");
  });
});

describe.each(dbKinds())("migrations on %s", (kind) => {
  it("apply to an empty database and again as a no-op", async () => {
    const pg = kind === "postgres" ? await freshPostgresDatabase() : undefined;
    try {
      const first = await openDatabase({ url: pg?.url });
      await first.close();
      const second = await openDatabase({ url: pg?.url });
      const rows = rowsOf<{ n: number }>(await second.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`));
      const { readdirSync } = await import("node:fs");
      expect(rows[0]!.n).toBe(readdirSync(migrationsFolder).filter((f) => f.endsWith(".sql")).length);
      await second.close();
    } finally {
      await pg?.drop();
    }
  });
});

describe.runIf(dbKinds().includes("postgres"))("migrations on postgres, longer than the statement timeout", () => {
  it("apply to an empty database whatever the pool's statement timeout (docs/reliability.md: migrations run without one)", async () => {
    // Before: only the advisory-lock connection had statement_timeout = 0; drizzle's migrator ran
    // on another pool connection under the 15 s statement timeout and the 20 s client-side one, so
    // a migration step longer than that (an index build on a big table) failed the origin's start.
    // A 1 ms timeout makes every ordinary step "long".
    const pg = await freshPostgresDatabase();
    try {
      const database = await openDatabase({ url: pg.url, statementTimeoutMs: 1 });
      await database.close();
      const check = await openDatabase({ url: pg.url, migrate: false });
      const applied = rowsOf<{ n: number }>(await check.db.execute(sql`select count(*)::int as n from drizzle.__drizzle_migrations`));
      const { readdirSync } = await import("node:fs");
      expect(applied[0]!.n).toBe(readdirSync(migrationsFolder).filter((f) => f.endsWith(".sql")).length);
      await check.close();
    } finally {
      await pg.drop();
    }
  });
});

describe.runIf(dbKinds().includes("postgres"))("migrations on postgres, their origin frozen mid-transaction", () => {
  it("the server ends a migration transaction left idle, so a frozen or vanished origin cannot hold its locks", async () => {
    // Before: the migration connection (no statement timeout, rightly) had no idle-in-transaction
    // timeout either, unlike every pool connection. An origin frozen or gone mid-migration (a lost
    // host, a stopped VM) left its transaction open, holding the ACCESS EXCLUSIVE locks of the tables
    // it altered (every other origin's requests on them waiting) and the migration lock, until the
    // server's TCP keepalive gave up: two hours by default. Here the origin's event loop is blocked
    // for longer than the limit (30 s, the pool's floor) right after the migrator's BEGIN.
    const fresh = await freshPostgresDatabase();
    const query = pg.Client.prototype.query;
    let frozen = false;
    const spy = vi.spyOn(pg.Client.prototype, "query").mockImplementation(function (this: pg.Client, ...args: unknown[]) {
      const result = (query as (...a: unknown[]) => unknown).apply(this, args);
      const text = typeof args[0] === "string" ? args[0] : (args[0] as { text?: string } | undefined)?.text;
      if (frozen || text?.trim().toLowerCase() !== "begin" || !(result instanceof Promise)) return result;
      frozen = true;
      return result.then((r: unknown) => {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 33_000);
        return r;
      });
    } as typeof query);
    try {
      const outcome = await openDatabase({ url: fresh.url, statementTimeoutMs: 1000 }).then(
        async (d) => {
          await d.close();
          return "started";
        },
        () => "failed",
      );
      spy.mockRestore();
      expect(frozen).toBe(true);
      expect(outcome).toBe("failed");
      // The session ended with its transaction: the migration lock is free and the next start migrates.
      const database = await openDatabase({ url: fresh.url });
      const held = rowsOf<{ n: number }>(await database.db.execute(sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = ${MIGRATION_LOCK % 2 ** 32}`));
      expect(held[0]!.n).toBe(0);
      await database.close();
    } finally {
      spy.mockRestore();
      await fresh.drop();
    }
  }, 120_000);
});

describe.runIf(dbKinds().includes("postgres"))("PostgreSQL connection loss", () => {
  it("an idle pooled connection killed by the server does not crash the process; the next query reconnects", async () => {
    const pgdb = await freshPostgresDatabase();
    const database = await openDatabase({ url: pgdb.url });
    try {
      await database.db.execute(sql`select 1`);
      const killer = await openDatabase({ url: pgdb.url });
      await killer.db.execute(sql`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`);
      await killer.close();
      await new Promise((r) => setTimeout(r, 200));
      const rows = rowsOf<{ one: number }>(await database.db.execute(sql`select 1 as one`));
      expect(rows[0]!.one).toBe(1);
    } finally {
      await database.close();
      await pgdb.drop();
    }
  });
});
