import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOrigin, systemFixture } from "./support/system.ts";

// Production artefacts: the origin and the CLI run as compiled JavaScript (no tsx, no TypeScript
// at run time), and the CLI installs from its packed tarball with `npm i -g` and nothing else.
const ROOT = resolve(import.meta.dirname, "..");
const work = mkdtempSync(join(tmpdir(), "kakunin-pack-"));

beforeAll(() => {
  execFileSync(process.execPath, ["scripts/build.mjs"], { cwd: ROOT, stdio: "pipe" });
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("compiled origin", () => {
  it("starts from origin/dist/main.js without tsx and answers /healthz", async () => {
    const bundle = readFileSync(join(ROOT, "origin/dist/main.js"), "utf8");
    expect(bundle).not.toMatch(/from ["']tsx/);
    expect(bundle).not.toMatch(/from ["']@kakunin\//); // workspace code is compiled in
    expect(existsSync(join(ROOT, "origin/dist/migrations/meta/_journal.json"))).toBe(true);
    const fx = systemFixture();
    const origin = await startOrigin({ compiled: true, dataDir: fx.dir, edgeUrl: "http://127.0.0.1:9", secret: fx.secret, adminKey: fx.adminKey, env: { KAKUNIN_PUBLISH: "off" } });
    try {
      const res = await fetch(`${origin.url}/healthz`);
      expect(res.status).toBe(200);
      const agents = await fetch(`${origin.url}/v1/agents`, { headers: { authorization: `Bearer ${fx.adminKey}` } });
      expect(agents.status).toBe(200); // migrations applied from dist/migrations
    } finally {
      await origin.stop();
      fx.cleanup();
    }
  }, 120_000);
});

describe("kakunin-origin migrate (compiled)", () => {
  it("migrates and exits 0 (then: nothing to do); an origin with KAKUNIN_MIGRATE=off starts on the migrated database", async () => {
    const fx = systemFixture();
    const env: NodeJS.ProcessEnv = { ...process.env, KAKUNIN_DATA_DIR: fx.dir };
    delete env.DATABASE_URL;
    try {
      const pkg = JSON.parse(readFileSync(join(ROOT, "origin/package.json"), "utf8")) as { bin: Record<string, string> };
      expect(pkg.bin["kakunin-origin"]).toBe("./dist/main.js");
      expect(readFileSync(join(ROOT, "origin/dist/main.js"), "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
      const first = spawnSync(process.execPath, ["dist/main.js", "migrate"], { cwd: join(ROOT, "origin"), encoding: "utf8", timeout: 90_000, env });
      expect(first.stderr).toBe("");
      expect(first.status).toBe(0);
      // One JSON log line, like everything the origin writes (component migrate, event migrated).
      const line = JSON.parse(first.stdout.trim().split("\n").at(-1) ?? "{}") as { component?: string; event?: string; driver?: string; applied?: number; msg?: string };
      expect(line).toMatchObject({ component: "migrate", event: "migrated", driver: "pglite" });
      expect(line.applied).toBeGreaterThan(0);
      expect(line.msg).toMatch(/^applied \d+ migration\(s\) to the pglite database/);
      const again = spawnSync(process.execPath, ["dist/main.js", "migrate"], { cwd: join(ROOT, "origin"), encoding: "utf8", timeout: 90_000, env });
      expect(again.status).toBe(0);
      expect(again.stdout).toContain("current; nothing to do");
      const bogus = spawnSync(process.execPath, ["dist/main.js", "migrat"], { cwd: join(ROOT, "origin"), encoding: "utf8", timeout: 30_000, env });
      expect(bogus.status).toBe(2);
      expect(bogus.stderr).toContain("kakunin-origin migrate");
      const origin = await startOrigin({ compiled: true, dataDir: fx.dir, edgeUrl: "http://127.0.0.1:9", secret: fx.secret, adminKey: fx.adminKey, env: { KAKUNIN_PUBLISH: "off", KAKUNIN_MIGRATE: "off" } });
      try {
        const agents = await fetch(`${origin.url}/v1/agents`, { headers: { authorization: `Bearer ${fx.adminKey}` } });
        expect(agents.status).toBe(200);
      } finally {
        await origin.stop();
      }
    } finally {
      fx.cleanup();
    }
  }, 180_000);
});

describe("production mode", () => {
  it("the compiled origin refuses to start on development defaults, naming each, and exits 1", () => {
    const fx = systemFixture();
    try {
      const run = spawnSync(process.execPath, ["dist/main.js"], {
        cwd: join(ROOT, "origin"), encoding: "utf8", timeout: 60_000,
        env: { ...process.env, KAKUNIN_ENV: "production", KAKUNIN_DATA_DIR: fx.dir, KAKUNIN_ADMIN_KEY: fx.adminKey, KAKUNIN_ORIGIN_PORT: "0" },
      });
      expect(run.status).toBe(1);
      for (const name of ["KAKUNIN_KEY_MANAGER=local", "DATABASE_URL", "KAKUNIN_ARCHIVE=local", "KAKUNIN_ADMIN_KEY"]) expect(run.stderr).toContain(name);
      expect(run.stderr).not.toContain(fx.adminKey); // named, never printed
      expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    } finally {
      fx.cleanup();
    }
  }, 90_000);
});

describe("CLI tarball", () => {
  it("installs with npm i -g from the packed tarball and runs with no dependencies", () => {
    execFileSync("pnpm", ["pack", "--pack-destination", work], { cwd: join(ROOT, "cli"), stdio: "pipe" });
    const tarball = readdirSync(work).find((f) => f.endsWith(".tgz"));
    expect(tarball).toBeDefined();
    const prefix = join(work, "prefix");
    execFileSync("npm", ["install", "-g", "--prefix", prefix, "--offline", "--no-audit", "--no-fund", join(work, tarball!)], { stdio: "pipe" });
    const installed = join(prefix, "lib/node_modules/@kakunin/cli");
    expect(readdirSync(installed).sort()).toEqual(expect.arrayContaining(["bin", "dist", "package.json"]));
    expect(existsSync(join(installed, "src"))).toBe(false);
    expect(existsSync(join(installed, "node_modules"))).toBe(false); // nothing to install at run time
    const bin = join(prefix, "bin/kakunin");
    const version = spawnSync(bin, ["--version"], { encoding: "utf8" });
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(`kakunin ${JSON.parse(readFileSync(join(ROOT, "cli/package.json"), "utf8")).version}`);
    const help = spawnSync(bin, ["audit", "verify", "--help"], { encoding: "utf8" });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("audit verify");
    const bad = spawnSync(bin, ["no-such-command"], { encoding: "utf8" });
    expect(bad.status).toBe(2);
    // Shell completion from the compiled bundle, sourced by bash.
    const completion = spawnSync("bash", ["--norc", "--noprofile", "-c", `source <(${JSON.stringify(bin)} completion bash) && COMP_WORDS=(kakunin au) COMP_CWORD=1 && _kakunin && echo "\${COMPREPLY[*]}"`], { encoding: "utf8" });
    expect(completion.stdout.trim()).toBe("audit");
  }, 180_000);
});
