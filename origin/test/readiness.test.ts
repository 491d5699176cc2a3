import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock.ts";
import { openDatabase } from "../src/db/index.ts";
import { outbox } from "../src/db/schema.ts";
import { startTcpProxy, type TcpProxy } from "../../test/support/tcp-proxy.ts";
import pg from "pg";
import { agentBody, dbKinds, freshPostgresDatabase, postgresUrl, startTestOrigin, type TestOrigin } from "./harness.ts";

type Ready = { status: string; checks: Record<string, { ok: boolean; detail?: string; ms: number }> };

describe.each(dbKinds())("liveness and readiness on %s", (kind) => {
  let o: TestOrigin;
  const clock = new ManualClock(new Date());
  beforeAll(async () => {
    o = await startTestOrigin(kind, { clock, env: { KAKUNIN_READY_MAX_PUBLISH_LAG_S: "60" } });
    expect((await o.json("GET", "/v1/ca")).status).toBe(200); // creates the CA keys, as main.ts does at start
  });
  afterAll(async () => { await o.close(); });

  it("GET /readyz names each dependency; a publish backlog older than the threshold makes it 503 naming the check", async () => {
    const ok = await o.json<Ready>("GET", "/readyz", { key: null });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.status).toBe("ready");
    expect(Object.keys(ok.body.checks).sort()).toEqual(["background", "database", "key_manager", "publish_lag"]);
    for (const c of Object.values(ok.body.checks)) expect(c.ok).toBe(true);

    await o.services.db.insert(outbox).values({ kind: "agent", subject: "00000000-0000-0000-0000-000000000000", createdAt: new Date(clock.now().getTime() - 120_000) });
    const lagging = await o.json<Ready & { detail: string }>("GET", "/readyz", { key: null });
    expect(lagging.status).toBe(503);
    expect(lagging.res.headers.get("content-type")).toBe("application/problem+json");
    expect(lagging.res.headers.get("retry-after")).toBeTruthy();
    expect(lagging.body.checks.publish_lag!.ok).toBe(false);
    expect(lagging.body.detail).toMatch(/publish_lag/);
    await o.services.db.delete(outbox);
  });

  it("a backlog of upkeep alone (OCSP/CRL refresh, a resync) keeps /readyz ready: it is published after changes, and taking the API out of rotation would not speed it", async () => {
    const old = new Date(clock.now().getTime() - 3_600_000);
    await o.services.db.insert(outbox).values({ kind: "crl", subject: "00000000-0000-0000-0000-000000000001", createdAt: old, background: true });
    const ready = await o.json<Ready>("GET", "/readyz", { key: null });
    expect(ready.status, JSON.stringify(ready.body)).toBe(200);
    expect(ready.body.checks.publish_lag!.detail).toMatch(/upkeep: 1 pending, oldest 3600 s/);
    const metrics = await o.request("GET", "/metrics", { key: null });
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^kakunin_outbox_oldest_age_seconds 0$/m);
    expect(text).toMatch(/^kakunin_outbox_upkeep_pending 1$/m);
    await o.services.db.delete(outbox);
  });

  it("GET /healthz is liveness only: it answers 200 without asking the database", async () => {
    const res = await o.json<{ status: string }>("GET", "/healthz", { key: null });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("ok");
  });
});

describe.skipIf(!postgresUrl())("a database that is down or slow (postgres)", () => {
  let o: TestOrigin;
  let proxy: TcpProxy;
  let drop: () => Promise<void>;
  let dbUrl = "";
  beforeAll(async () => {
    const db = await freshPostgresDatabase();
    drop = db.drop;
    dbUrl = db.url;
    const url = new URL(db.url);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port) });
    url.port = String(proxy.port);
    o = await startTestOrigin("postgres", {
      databaseUrl: url.toString(),
      env: { KAKUNIN_DB_CONNECT_TIMEOUT_MS: "1000", KAKUNIN_DB_STATEMENT_TIMEOUT_MS: "1500" },
    });
    expect((await o.json("GET", "/v1/ca")).status).toBe(200);
  });
  afterAll(async () => {
    await o.close();
    await proxy.close();
    await drop();
  });

  it("answers 503 problem+json with Retry-After while the database is unreachable, /healthz stays 200, /readyz names the database; recovers by itself", async () => {
    expect((await o.json("GET", "/v1/agents")).status).toBe(200);
    proxy.setDown(true);
    const t0 = Date.now();
    const down = await o.json<{ type: string; detail: string }>("GET", "/v1/agents");
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(down.status).toBe(503);
    expect(down.res.headers.get("content-type")).toBe("application/problem+json");
    expect(Number(down.res.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(down.body.type).toMatch(/database-unavailable/);
    expect(down.body.detail).not.toMatch(/at .*\.ts/); // no stack
    expect((await o.json("GET", "/healthz", { key: null })).status).toBe(200);
    const ready = await o.json<Ready>("GET", "/readyz", { key: null });
    expect(ready.status).toBe(503);
    expect(ready.body.checks.database!.ok).toBe(false);
    // Counts the database could not give are unknown (NaN), not 0: an alert on dead letters > 0 must not resolve in an outage.
    const metrics = await (await o.request("GET", "/metrics", { key: null })).text();
    expect(metrics).toMatch(/^kakunin_dead_letters\{source="edge",kind="event"\} NaN$/im); // prom-client writes Nan; Go's ParseFloat reads either
    expect(metrics).toMatch(/^kakunin_webhook_deliveries\{status="dead"\} NaN$/im);
    expect(metrics).not.toMatch(/^kakunin_dead_letters\{[^}]*\} 0$/m);
    proxy.setDown(false);
    expect((await o.json("GET", "/v1/agents")).status).toBe(200);
    const again = await o.json("GET", "/readyz", { key: null });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
  });

  it("a database that only reads (failover to a standby, default_transaction_read_only): /readyz is 503 naming it, writes 503 with Retry-After, not 500", async () => {
    proxy.setDown(false);
    const name = new URL(dbUrl).pathname.slice(1);
    const admin = new pg.Client({ connectionString: postgresUrl()! });
    await admin.connect();
    // New sessions read only, and the origin's sessions cut, as a failover does.
    const flip = async (on: boolean) => {
      await admin.query(`alter database ${name} set default_transaction_read_only = ${on ? "on" : "off"}`);
      await admin.query("select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()", [name]);
    };
    try {
      await flip(true);
      await expect.poll(async () => (await o.json("GET", "/v1/agents")).status, { timeout: 10_000 }).toBe(200); // reads still work
      const ready = await o.json<Ready>("GET", "/readyz", { key: null });
      expect(ready.status).toBe(503);
      expect(ready.body.checks.database!.detail).toMatch(/read-only/);
      const write = await o.json<{ type: string }>("POST", "/v1/agents", { body: agentBody() });
      expect(write.status).toBe(503);
      expect(write.body.type).toMatch(/database-unavailable/);
      expect(Number(write.res.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await flip(false);
      await admin.end();
    }
    await expect.poll(async () => (await o.json("GET", "/readyz", { key: null })).status, { timeout: 10_000 }).toBe(200);
    expect((await o.json("POST", "/v1/agents", { body: agentBody() })).status).toBe(201);
  });

  it("a statement over the statement timeout is cancelled by the server, not waited on forever", async () => {
    proxy.setDown(false);
    const { sql } = await import("drizzle-orm");
    const t0 = Date.now();
    await expect(o.services.db.execute(sql`select pg_sleep(10)`)).rejects.toThrow();
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it("several origins migrating one new database at once all start (migrations under an advisory lock)", async () => {
    const db = await freshPostgresDatabase();
    try {
      const opened = await Promise.allSettled([0, 1, 2].map(() => openDatabase({ url: db.url })));
      for (const r of opened) if (r.status === "fulfilled") await r.value.close();
      expect(opened.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "fulfilled"]);
    } finally {
      await db.drop();
    }
  });
});
