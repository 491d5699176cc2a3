import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

/** A small tmpfs when running as root (the kernel answers ENOSPC, no mocks), else undefined. */
function smallDisk(mib: number): { dir: string; undo: () => void } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const dir = mkdtempSync(join(tmpdir(), "kakunin-full-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${mib}m`, "tmpfs", dir], { stdio: "ignore" });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    undo: () => {
      execFileSync("umount", ["-l", dir], { stdio: "ignore" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Fills the filesystem under `dir` with one file until the kernel says ENOSPC. */
function fill(dir: string): string {
  const file = join(dir, "ballast");
  const chunk = Buffer.alloc(1 << 20);
  try {
    for (;;) writeFileSync(file, chunk, { flag: "a" });
  } catch {
    // ENOSPC: full.
  }
  return file;
}

const disk = smallDisk(160);

// The embedded database's disk fills up (logs, a backup, the ballast here): writes must answer 503
// with Retry-After, never a 500 or a 2xx for a write that was not stored; /readyz names the database.
describe.skipIf(!disk)("a PGlite data dir on a full disk", () => {
  let built: Built;
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
    config = loadConfig({
      KAKUNIN_DATA_DIR: join(disk!.dir, "data"),
      KAKUNIN_MASTER_KEY: randomBytes(32).toString("base64"),
      KAKUNIN_ADMIN_KEY: adminKey,
      KAKUNIN_LOG_LEVEL: "silent",
    });
    built = await buildServices(config, { logger: createLogger({ level: "warn", write: (l) => void lines.push(l) }) });
    await bootstrap(built.services.db, adminKey);
    app = createApp(built.services);
    expect((await call("GET", "/v1/ca")).status).toBe(200);
    expect((await call("POST", "/v1/agents", agentBody())).status).toBe(201);
  }, 120_000);
  afterAll(async () => {
    await built?.close().catch(() => {});
    disk?.undo();
  });

  it("answers writes 503 database-unavailable with Retry-After, acknowledges only what it stored, and /readyz says so", async () => {
    const ballast = fill(disk!.dir);
    const acked: string[] = [];
    const refused: Array<{ status: number; type: unknown; retry: string | null }> = [];
    for (let i = 0; i < 40; i++) {
      const r = await call("POST", "/v1/agents", agentBody({ name: `full-${i}` }));
      if (r.status === 201) {
        acked.push((r.body.data as { id: string }).id);
        const c = await call("POST", `/v1/agents/${(r.body.data as { id: string }).id}/certify`);
        if (c.status !== 201) refused.push({ status: c.status, type: c.body.type, retry: c.res.headers.get("retry-after") });
      } else refused.push({ status: r.status, type: r.body.type, retry: r.res.headers.get("retry-after") });
    }
    expect(lines.filter((l) => /unhandled error/.test(l))).toEqual([]);
    expect(refused.length, "the full disk was noticed").toBeGreaterThan(0);
    for (const f of refused) {
      expect(f.status, JSON.stringify(f)).toBe(503);
      expect(f.type).toMatch(/database-unavailable/);
      expect(Number(f.retry)).toBeGreaterThan(0);
    }
    const ready = await call("GET", "/readyz");
    expect(ready.status, JSON.stringify(ready.body)).toBe(503);
    expect((ready.body as unknown as Ready).checks.database!.ok).toBe(false);

    // Room again, then the restart the docs ask for: everything acknowledged is there.
    rmSync(ballast);
    await built.close().catch(() => {});
    built = await buildServices(config);
    app = createApp(built.services);
    const after = await call("GET", "/readyz");
    expect(after.status, JSON.stringify(after.body)).toBe(200);
    for (const id of acked) expect((await call("GET", `/v1/agents/${id}`)).status, id).toBe(200);
    expect((await call("POST", "/v1/agents", agentBody({ name: "after" }))).status).toBe(201);
  }, 120_000);
});
