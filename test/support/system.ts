import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dirname, "../..");

import { freePort } from "../../scripts/free-port.mjs";
import { pgliteTemplateDir } from "../../origin/test/pglite-template.ts";
import { TEST_ORIGIN_ENV } from "./test-build.ts";

export { freePort };

async function waitHealthy(url: string, proc: ChildProcess, log: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`process exited (${proc.exitCode}) before ${url} was healthy:\n${log()}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${url} not healthy within ${timeoutMs} ms:\n${log()}`);
}

export interface Proc {
  url: string;
  port: number;
  /** The process group's leader, for a signal the test sends itself (stop() escalates to SIGKILL after 8 s). */
  pid?: number;
  stop(signal?: NodeJS.Signals): Promise<void>;
  log(): string;
}

function launch(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): { proc: ChildProcess; log: () => string } {
  const proc = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let out = "";
  const keep = (c: Buffer) => { out = (out + c.toString()).slice(-20_000); };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  return { proc, log: () => out };
}

function stopper(proc: ChildProcess) {
  return async (signal: NodeJS.Signals = "SIGTERM") => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once("exit", () => r()));
    try { process.kill(-proc.pid!, signal); } catch { /* gone */ }
    const timer = setTimeout(() => { try { process.kill(-proc.pid!, "SIGKILL"); } catch { /* gone */ } }, 8000);
    await exited;
    clearTimeout(timer);
  };
}

/**
 * The real origin as a child process: this run's build of the sources (test-build.ts; else the
 * sources through tsx, `node --import tsx origin/src/main.ts`), or with `compiled` the production
 * build in origin/dist (`node origin/dist/main.js`, made by `pnpm build`).
 */
export async function startOrigin(opts: {
  port?: number; dataDir: string; edgeUrl: string; secret: string; adminKey: string; env?: Record<string, string>;
  /** A command the origin runs under, e.g. `["faketime", "-f", "+6m"]` for a skewed clock. */
  wrap?: string[];
  compiled?: boolean;
}): Promise<Proc> {
  // freePort() closes its probe before the origin binds, so another process (a parallel test file's
  // edge, inspector or database) can take the port in between: EADDRINUSE. A port we chose is
  // chosen again; a port the caller asked for (a restart on the same address) is not.
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchOrigin(opts, opts.port ?? (await freePort()));
    } catch (e) {
      if (opts.port !== undefined || attempt >= 3 || !(e instanceof Error) || !e.message.includes("EADDRINUSE")) throw e;
    }
  }
}

async function launchOrigin(opts: Parameters<typeof startOrigin>[0], port: number): Promise<Proc> {
  // First start on an embedded database: give it a copy of the migrated template instead of
  // letting it run initdb and every migration (seconds of CPU per origin, on a 2-core CI box where
  // another test file runs beside this one). The origin still runs its migrator and finds nothing
  // to do; a data dir that already has a database, and PostgreSQL, are left alone.
  const pgliteDir = join(opts.dataDir, "pglite");
  const embedded = !(opts.env?.DATABASE_URL ?? process.env.DATABASE_URL) && opts.env?.KAKUNIN_MIGRATE !== "off";
  if (embedded && !existsSync(pgliteDir)) cpSync(await pgliteTemplateDir(), pgliteDir, { recursive: true });
  // Not `compiled`: this run's build of the sources (test-build.ts), else the sources through tsx.
  const built = process.env[TEST_ORIGIN_ENV];
  const entry = opts.compiled ? ["dist/main.js"] : built ? [built] : ["--import", "tsx", "src/main.ts"];
  const [cmd, ...args] = [...(opts.wrap ?? []), process.execPath, ...entry];
  const { proc, log } = launch(cmd!, args, join(ROOT, "origin"), {
    ...process.env,
    KAKUNIN_ORIGIN_PORT: String(port),
    KAKUNIN_DATA_DIR: opts.dataDir,
    KAKUNIN_EDGE_URL: opts.edgeUrl,
    KAKUNIN_EDGE_SECRET: opts.secret,
    KAKUNIN_ADMIN_KEY: opts.adminKey,
    // A small key pool (the default keeps 32 RSA-2048 keys ready): filling 32 costs 5-10 s of CPU
    // per origin started, taken from the test file running beside it, for keys most tests never
    // use. The pool still warms and serves; a test that certifies more waits for keys generated on
    // demand, as an origin under load does. `env` may set another size.
    KAKUNIN_LOCAL_KEY_POOL: "2",
    ...opts.env,
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(proc);
  try {
    await waitHealthy(`${url}/healthz`, proc, log);
  } catch (e) {
    await stop("SIGKILL");
    throw e;
  }
  return { url, port, pid: proc.pid!, stop, log };
}

/** The real edge: `wrangler dev` (workerd) with local KV/DO state persisted in `persistDir`. */
export async function startEdge(opts: {
  port?: number; persistDir: string; originUrl: string; secret: string;
  /** Another Worker's wrangler config (e.g. bench/soak's baseline); default the repo's edge. */
  config?: string;
}): Promise<Proc> {
  const port = opts.port ?? (await freePort());
  const envFile = join(opts.persistDir, "edge.env");
  writeFileSync(envFile, `KAKUNIN_EDGE_SECRET=${opts.secret}\nORIGIN_URL=${opts.originUrl}\n`);
  const { proc, log } = launch(join(ROOT, "node_modules/.bin/wrangler"), [
    "dev", ...(opts.config ? ["-c", opts.config] : []), "--port", String(port), "--ip", "127.0.0.1", "--inspector-port", String(await freePort()),
    "--persist-to", join(opts.persistDir, "state"), "--env-file", envFile, "--log-level", "warn", "--show-interactive-dev-session=false",
  ], ROOT, { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" });
  const url = `http://127.0.0.1:${port}`;
  const stop = stopper(proc);
  try {
    await waitHealthy(`${url}/healthz`, proc, log, 90_000);
  } catch (e) {
    await stop("SIGKILL");
    throw e;
  }
  return { url, port, pid: proc.pid!, stop, log };
}

/** A temp dir and secrets for one system under test. */
export function systemFixture(): { dir: string; secret: string; adminKey: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-sys-"));
  return {
    dir,
    secret: randomBytes(32).toString("base64url"),
    adminKey: `sys-admin-${randomBytes(12).toString("hex")}`,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Polls `fn` until it returns a value or the deadline passes; returns the value and the time taken. */
export async function pollUntil<T>(fn: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 20): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    const v = await fn();
    if (v !== undefined) return { value: v, ms: performance.now() - t0 };
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** Origin and edge started together on free ports, wired to each other, restartable on the same ports. */
export interface RunningSystem {
  origin: Proc;
  edge: Proc;
  originPort: number;
  edgePort: number;
  restartOrigin(): Promise<Proc>;
  restartEdge(): Promise<Proc>;
  stop(): Promise<void>;
}

export async function startSystem(fx: { dir: string; secret: string; adminKey: string }, originEnv: Record<string, string> = {}): Promise<RunningSystem> {
  const [originPort, edgePort] = [await freePort(), await freePort()];
  const edgeDir = join(fx.dir, "edge");
  mkdirSync(edgeDir, { recursive: true });
  const originOpts = { port: originPort, dataDir: join(fx.dir, "origin"), edgeUrl: `http://127.0.0.1:${edgePort}`, secret: fx.secret, adminKey: fx.adminKey, env: originEnv };
  const edgeOpts = { port: edgePort, persistDir: edgeDir, originUrl: `http://127.0.0.1:${originPort}`, secret: fx.secret };
  const [edge, origin] = await Promise.all([startEdge(edgeOpts), startOrigin(originOpts)]);
  const sys: RunningSystem = {
    origin, edge, originPort, edgePort,
    restartOrigin: async () => (sys.origin = await startOrigin(originOpts)),
    restartEdge: async () => (sys.edge = await startEdge(edgeOpts)),
    stop: async () => { await Promise.all([sys.origin.stop(), sys.edge.stop()]); },
  };
  return sys;
}
