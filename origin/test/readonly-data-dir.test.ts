import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import { bootstrap } from "../src/bootstrap.ts";
import { buildServices, type Built } from "../src/build-services.ts";
import { loadConfig, type Config } from "../src/config.ts";
import { createLogger } from "../src/observability/logger.ts";
import { agentBody } from "./harness.ts";

type Ready = { status: string; checks: Record<string, { ok: boolean; detail?: string }> };

/**
 * Makes `dir` really read-only, no mocks: a read-only bind mount when running as root (root
 * ignores file modes; this is what a filesystem remounted read-only after an error looks like),
 * else `chmod a-w` on the whole tree. Returns the undo, or undefined when neither works here.
 */
function makeReadOnly(dir: string): (() => void) | undefined {
  if (process.getuid?.() === 0) {
    try {
      execFileSync("mount", ["--bind", dir, dir], { stdio: "ignore" });
    } catch {
      return undefined;
    }
    try {
      execFileSync("mount", ["-o", "remount,ro,bind", dir], { stdio: "ignore" });
    } catch {
      execFileSync("umount", [dir], { stdio: "ignore" });
      return undefined;
    }
    return () => execFileSync("umount", [dir], { stdio: "ignore" });
  }
  const modes = new Map<string, number>();
  const walk = (p: string) => {
    const st = statSync(p);
    modes.set(p, st.mode & 0o7777);
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(dir);
  for (const [p, m] of modes) chmodSync(p, m & ~0o222);
  return () => {
    for (const [p, m] of modes) chmodSync(p, m);
  };
}

// The embedded database on a filesystem that stops taking writes (remounted read-only after a disk
// error, a full disk, a volume mounted read-only by mistake): that is an outage of the database,
// not a bug, so writes answer 503 with Retry-After and /readyz takes the origin out of rotation.
describe("a PGlite data dir that stops taking writes", () => {
  let built: Built;
  let dataDir = "";
  let undo: (() => void) | undefined;
  let app: ReturnType<typeof createApp>;
  let config: Config;
  const lines: string[] = [];
  const adminKey = `test-admin-${randomBytes(12).toString("hex")}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = { authorization: `Bearer ${adminKey}` };
    if (body !== undefined) headers["content-type"] = "application/json";
    const res = await app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, res, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "kakunin-ro-"));
    config = loadConfig({
      KAKUNIN_DATA_DIR: dataDir,
      KAKUNIN_MASTER_KEY: randomBytes(32).toString("base64"),
      KAKUNIN_ADMIN_KEY: adminKey,
      KAKUNIN_LOG_LEVEL: "silent",
    });
    built = await buildServices(config, { logger: createLogger({ level: "warn", write: (l) => void lines.push(l) }) });
    await bootstrap(built.services.db, adminKey);
    app = createApp(built.services);
    expect((await call("GET", "/v1/ca")).status).toBe(200);
    expect((await call("POST", "/v1/agents", agentBody())).status).toBe(201);
    expect((await call("GET", "/readyz")).status).toBe(200);
  });
  afterAll(async () => {
    undo?.();
    await built?.close().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("answers writes with a 503 problem+json and Retry-After, and /readyz reports the database not ready", async (ctx) => {
    undo = makeReadOnly(dataDir);
    if (!undo) return ctx.skip("cannot make a directory read-only here (not root with mount, and chmod does not bind root)");
    const failures: Array<{ status: number; type: unknown; retry: string | null }> = [];
    // Several different writes: which one first needs a file PGlite has not opened yet varies.
    for (let i = 0; i < 5; i++) {
      const r = await call("POST", "/v1/agents", agentBody({ name: `ro-agent-${i}` }));
      if (r.status !== 201) failures.push({ status: r.status, type: r.body.type, retry: r.res.headers.get("retry-after") });
      const t = await call("POST", "/v1/tenants", { name: `ro-tenant-${i}` });
      if (t.status !== 201) failures.push({ status: t.status, type: t.body.type, retry: t.res.headers.get("retry-after") });
    }
    expect(lines.filter((l) => /unhandled error/.test(l))).toEqual([]);
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures) {
      expect(f.status, JSON.stringify(f)).toBe(503);
      expect(f.type).toMatch(/database-unavailable/);
      expect(Number(f.retry)).toBeGreaterThan(0);
    }
    const ready = await call("GET", "/readyz");
    expect(ready.status, JSON.stringify(ready.body)).toBe(503);
    expect((ready.body as unknown as Ready).checks.database!.ok).toBe(false);
    expect((ready.body as unknown as Ready).checks.database!.detail).toMatch(/read-only|not writable|permission/i);

    // Writable again: PGlite still refuses (it does not recover from a failed file write), so the
    // origin stays out of rotation, saying it needs a restart; after one, writes succeed.
    undo();
    undo = undefined;
    const stuck = await call("GET", "/readyz");
    expect(stuck.status).toBe(503);
    expect((stuck.body as unknown as Ready).checks.database!.detail).toMatch(/restart/);
    await built.close();
    built = await buildServices(config);
    app = createApp(built.services);
    expect((await call("GET", "/readyz")).status).toBe(200);
    const again = await call("POST", "/v1/agents", agentBody({ name: "after-restart" }));
    expect(again.status, JSON.stringify(again.body)).toBe(201);
  });
});
