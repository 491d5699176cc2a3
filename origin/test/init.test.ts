import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { bootstrap, BOOTSTRAP_TOKEN_NAME, INIT_TOKEN_FILE } from "../src/bootstrap.ts";
import { buildServices, type Built } from "../src/build-services.ts";
import { loadConfig } from "../src/config.ts";
import { dbKinds, freshPostgresDatabase, type DbKind } from "./harness.ts";
import { pgliteTemplateDir } from "./pglite-template.ts";

interface Problem { type: string; status: number; detail: string; errors?: { path: string }[] }

/** An origin started without KAKUNIN_ADMIN_KEY, as `pnpm start` on a fresh machine; restartable on the same database. */
async function uninitialised(kind: DbKind) {
  const dataDir = mkdtempSync(join(tmpdir(), "kakunin-init-"));
  // A migrated database (copied from the test templates): these tests are about the admin-key
  // bootstrap, and initdb plus every migration per test cost most of this file's time.
  const pgdb = kind === "postgres" ? await freshPostgresDatabase({ migrated: true }) : undefined;
  if (!pgdb) cpSync(await pgliteTemplateDir(), join(dataDir, "pglite"), { recursive: true });
  const config = loadConfig({
    KAKUNIN_DATA_DIR: dataDir, KAKUNIN_MASTER_KEY: randomBytes(32).toString("base64"), KAKUNIN_PUBLISH: "off",
    ...(pgdb ? { DATABASE_URL: pgdb.url } : {}),
  });
  // PGlite on disk (not in memory), so a second start sees the first one's database.
  const opened: Built[] = [];
  const start = async (adminKey?: string) => {
    for (const b of opened.splice(0)) await b.close();
    const built = await buildServices(config);
    opened.push(built);
    const boot = await bootstrap(built.services.db, adminKey, { dataDir });
    const app = createApp(built.services);
    return { boot, built, app };
  };
  let current = await start();
  const post = async (body: unknown, raw?: string) => {
    const res = await current.app.request("/v1/init", { method: "POST", headers: { "content-type": "application/json" }, body: raw ?? JSON.stringify(body) });
    return { status: res.status, type: res.headers.get("content-type"), body: (await res.json()) as Record<string, unknown> };
  };
  return {
    dataDir,
    get boot() { return current.boot; },
    get app() { return current.app; },
    post,
    restart: async (adminKey?: string) => { current = await start(adminKey); return current.boot; },
    tenantAs: async (key: string) => {
      const res = await current.app.request("/v1/tenant", { headers: { authorization: `Bearer ${key}` } });
      return { status: res.status, body: (await res.json()) as { data: { name: string; role: string; id: string } } };
    },
    async close() {
      for (const b of opened.splice(0)) await b.close();
      await pgdb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe.each(dbKinds())("POST /v1/init (%s)", (kind) => {
  let o: Awaited<ReturnType<typeof uninitialised>> | undefined;
  afterEach(async () => {
    await o?.close();
    o = undefined;
  });

  it("a first start writes a one-time token (mode 0600) that a restart reuses; the route is in /openapi.json", async () => {
    o = await uninitialised(kind);
    const token = o.boot.initToken!;
    expect(token).toMatch(/^kki_[A-Za-z0-9_-]{43}$/);
    const file = join(o.dataDir, INIT_TOKEN_FILE);
    expect(o.boot.initTokenFile).toBe(file);
    expect(readFileSync(file, "utf8").trim()).toBe(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await o.restart()).initToken).toBe(token);
    // The token is no API key, even though its hash sits in api_keys.
    expect((await o.tenantAs(token)).status).toBe(401);
    const doc = (await (await o.app.request("/openapi.json")).json()) as { paths: Record<string, { post?: { security?: unknown } }> };
    expect(doc.paths["/v1/init"]?.post).toBeDefined();
    expect(doc.paths["/v1/init"]?.post?.security).toBeUndefined();
  });

  it("refuses malformed bodies (422 / 400) and a wrong token (401), and still accepts the right one after", async () => {
    o = await uninitialised(kind);
    for (const body of [{}, { bootstrap_token: 5 }, { bootstrap_token: "" }, { bootstrap_token: o.boot.initToken, extra: 1 }, [], { bootstrap_token: "x".repeat(513) }]) {
      const r = await o.post(body);
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.type).toBe("application/problem+json");
      expect((r.body as unknown as Problem).type).toBe("urn:kakunin:problem:validation-failed");
    }
    expect((await o.post(undefined, "{not json")).status).toBe(400);
    for (const wrong of [`kki_${randomBytes(32).toString("base64url")}`, o.boot.initToken!.slice(0, -1), `${o.boot.initToken}x`]) {
      const r = await o.post({ bootstrap_token: wrong });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ type: "urn:kakunin:problem:unauthorized", detail: "Invalid bootstrap token." });
    }
    expect((await o.post({ bootstrap_token: o.boot.initToken })).status).toBe(201);
  });

  it("succeeds exactly once: a working admin key, audited; then 409, and a restart removes the spent token and issues none", async () => {
    o = await uninitialised(kind);
    const token = o.boot.initToken!;
    const first = await o.post({ bootstrap_token: token });
    expect(first.status).toBe(201);
    const data = (first.body as { data: { api_key: string; tenant_id: string; role: string } }).data;
    expect(Object.keys(data).sort()).toEqual(["api_key", "role", "tenant_id"]);
    expect(data).toMatchObject({ tenant_id: o.boot.tenantId, role: "admin" });
    const who = await o.tenantAs(data.api_key);
    expect(who.status).toBe(200);
    expect(who.body.data).toMatchObject({ id: o.boot.tenantId, name: "default", role: "admin" });
    // The spent token stays until the next start, so `kakunin init` again is told "already initialized".
    expect(existsSync(join(o.dataDir, INIT_TOKEN_FILE))).toBe(true);

    const second = await o.post({ bootstrap_token: token });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ type: "urn:kakunin:problem:already-initialized", title: "Already initialized", status: 409 });
    // Even a wrong token learns only that the origin is initialised.
    expect((await o.post({ bootstrap_token: "kki_wrong" })).status).toBe(409);

    const audit = await o.app.request("/v1/audit/entries?kind=api_key.created", { headers: { authorization: `Bearer ${data.api_key}` } });
    const entries = ((await audit.json()) as { data: { entry: Record<string, unknown> }[] }).data;
    expect(entries).toHaveLength(1);
    expect(entries[0]!.entry).toMatchObject({ actor: { type: "system", id: "kakunin-init" }, data: { role: "admin", via: "bootstrap token" } });
    // The spent token's row is gone: the listing shows the new admin key only.
    const keys = await o.app.request("/v1/api-keys", { headers: { authorization: `Bearer ${data.api_key}` } });
    expect(((await keys.json()) as { data: { name: string }[] }).data.map((k) => k.name)).toEqual(["initial admin (kakunin init)"]);

    const again = await o.restart();
    expect(again.initToken).toBeUndefined();
    expect(existsSync(join(o.dataDir, INIT_TOKEN_FILE))).toBe(false);
    expect((await o.tenantAs(data.api_key)).status).toBe(200);
  });

  it("of concurrent inits with the right token exactly one gets 201, the rest 409", async () => {
    o = await uninitialised(kind);
    const token = o.boot.initToken!;
    const results = await Promise.all(Array.from({ length: 5 }, () => o!.post({ bootstrap_token: token })));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409]);
    const key = (results.find((r) => r.status === 201)!.body as { data: { api_key: string } }).data.api_key;
    expect((await o.tenantAs(key)).status).toBe(200);
  });

  it("an origin started with KAKUNIN_ADMIN_KEY issues no token, discards a pending one, and answers 409", async () => {
    o = await uninitialised(kind);
    const stale = o.boot.initToken!;
    const adminKey = `init-test-admin-${randomBytes(8).toString("hex")}`;
    const boot = await o.restart(adminKey);
    expect(boot.initToken).toBeUndefined();
    expect(existsSync(join(o.dataDir, INIT_TOKEN_FILE))).toBe(false);
    expect((await o.post({ bootstrap_token: stale })).status).toBe(409);
    expect((await o.tenantAs(adminKey)).body.data.role).toBe("admin");
  });

  /** GET /v1/audit/entries?kind=… as the given admin key (audit reads need admin or auditor). */
  async function auditKinds(key: string, kind: string): Promise<Record<string, unknown>[]> {
    const res = await o!.app.request(`/v1/audit/entries?kind=${kind}&limit=200`, { headers: { authorization: `Bearer ${key}` } });
    return ((await res.json()) as { data: { entry: Record<string, unknown> }[] }).data.map((d) => d.entry);
  }

  it("an admin key merely named like the bootstrap token survives restarts (bootstrap rows are flagged, not named)", async () => {
    o = await uninitialised(kind);
    const admin = ((await o.post({ bootstrap_token: o.boot.initToken })).body as { data: { api_key: string } }).data.api_key;
    for (const name of [BOOTSTRAP_TOKEN_NAME, "bootstrap (KAKUNIN_ADMIN_KEY)"]) {
      const res = await o.app.request("/v1/api-keys", {
        method: "POST", headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" }, body: JSON.stringify({ name, role: "admin" }),
      });
      expect(res.status).toBe(201);
      const key = ((await res.json()) as { data: { key: string } }).data.key;
      await o.restart();
      expect((await o.tenantAs(key)).status, `${name} after a plain restart`).toBe(200);
      await o.restart(`env-admin-${randomBytes(8).toString("hex")}`);
      expect((await o.tenantAs(key)).status, `${name} after a restart with KAKUNIN_ADMIN_KEY`).toBe(200);
    }
  });

  it("KAKUNIN_ADMIN_KEY never re-enables a revoked key, and its creation is audited", async () => {
    o = await uninitialised(kind);
    const adminKey = `env-admin-${randomBytes(8).toString("hex")}`;
    await o.restart(adminKey);
    const created = await auditKinds(adminKey, "api_key.created");
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ actor: { type: "system", id: "bootstrap" }, data: { role: "admin", via: "KAKUNIN_ADMIN_KEY" } });
    // A second admin revokes the env key (e.g. it leaked).
    const res = await o.app.request("/v1/api-keys", {
      method: "POST", headers: { authorization: `Bearer ${adminKey}`, "content-type": "application/json" }, body: JSON.stringify({ name: "second", role: "admin" }),
    });
    const second = ((await res.json()) as { data: { key: string } }).data.key;
    const list = await o.app.request("/v1/api-keys", { headers: { authorization: `Bearer ${second}` } });
    const envRow = ((await list.json()) as { data: { id: string; prefix: string }[] }).data.find((k) => adminKey.startsWith(k.prefix))!;
    expect((await o.app.request(`/v1/api-keys/${envRow.id}`, { method: "DELETE", headers: { authorization: `Bearer ${second}` } })).status).toBe(200);
    expect((await o.tenantAs(adminKey)).status).toBe(401);
    const boot = await o.restart(adminKey);
    expect((await o.tenantAs(adminKey)).status).toBe(401);
    expect(boot.adminKeyRevoked).toBe(true);
    // Nothing was created or changed behind the log's back.
    expect(await auditKinds(second, "api_key.created")).toHaveLength(2);
  });

  it("a changed KAKUNIN_ADMIN_KEY replaces the previous bootstrap key: revoked at start, audited, reported", async () => {
    o = await uninitialised(kind);
    const first = `env-admin-${randomBytes(8).toString("hex")}`;
    const second = `env-admin-${randomBytes(8).toString("hex")}`;
    await o.restart(first);
    expect((await o.restart(first)).replacedAdminKeys ?? []).toEqual([]); // same value: nothing changes
    expect((await o.tenantAs(first)).status).toBe(200);
    const boot = await o.restart(second);
    expect((await o.tenantAs(second)).status).toBe(200);
    expect((await o.tenantAs(first)).status, "the old bootstrap key after the change").toBe(401);
    expect(boot.replacedAdminKeys).toHaveLength(1);
    const revoked = await auditKinds(second, "api_key.revoked");
    expect(revoked).toHaveLength(1);
    expect(revoked[0]).toMatchObject({ actor: { type: "system", id: "bootstrap" }, data: { api_key_id: boot.replacedAdminKeys![0], reason: "KAKUNIN_ADMIN_KEY changed" } });
    // Back to the old value: it stays revoked (never revived by an env variable), and the current
    // bootstrap key is not revoked for it, so a stale config on one origin cannot lock admins out.
    const back = await o.restart(first);
    expect(back.adminKeyRevoked).toBe(true);
    expect(back.replacedAdminKeys ?? []).toEqual([]);
    expect((await o.tenantAs(first)).status).toBe(401);
    expect((await o.tenantAs(second)).status).toBe(200);
    // Unset: the last bootstrap key stays valid (removing the variable from a unit file is not a revocation).
    await o.restart();
    expect((await o.tenantAs(second)).status).toBe(200);
  });

  it("issuing and discarding a bootstrap token are audited", async () => {
    o = await uninitialised(kind);
    const adminKey = `env-admin-${randomBytes(8).toString("hex")}`;
    await o.restart(adminKey);
    const issued = await auditKinds(adminKey, "bootstrap.token_issued");
    expect(issued).toHaveLength(1);
    expect(issued[0]).toMatchObject({ actor: { type: "system", id: "bootstrap" } });
    const discarded = await auditKinds(adminKey, "bootstrap.token_discarded");
    expect(discarded).toHaveLength(1);
    expect(discarded[0]).toMatchObject({ data: { reason: "KAKUNIN_ADMIN_KEY" } });
  });
});
