/**
 * Starts the real origin (Node) and edge (`wrangler dev` / workerd) for the demo, the same way
 * scripts/start.mjs does, but on free ports and a throwaway data dir so it runs beside `pnpm start`.
 * Each child gets its own process group, so stopping it also stops what it spawned (workerd).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { freePort } from "../free-port.mjs";
import { join } from "node:path";

export interface Service {
  name: "origin" | "edge";
  url: string;
  port: number;
  /** The last lines it printed (stdout and stderr interleaved), for failure reports. */
  tail(lines: number): string[];
}

export interface SystemOptions {
  root: string;
  dataDir: string;
  adminKey: string;
  edgeSecret: string;
  originPort?: number;
  edgePort?: number;
}

export type Started = { ok: true; origin: Service; edge: Service } | { ok: false; error: string };

export interface Launcher {
  /** Ports are chosen and the children spawned synchronously with the first await, so `stop` can always reach them. */
  plan(): Promise<{ origin: Service; edge: Service }>;
  waitHealthy(timeoutMs: number): Promise<Started>;
  stop(): Promise<void>;
  /** Last resort from a process `exit` handler, where nothing async runs: SIGKILL every group still alive. */
  killNow(): void;
  services(): Service[];
}

const LOG_LINES = 200;

interface Child {
  service: Service;
  proc: ChildProcess;
}

function launch(name: Service["name"], port: number, cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Child {
  const proc = spawn(cmd, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  const log: string[] = [];
  let partial = "";
  const keep = (chunk: Buffer): void => {
    const parts = (partial + chunk.toString()).split("\n");
    partial = parts.pop() ?? "";
    log.push(...parts.filter((l) => l.trim() !== ""));
    if (log.length > LOG_LINES) log.splice(0, log.length - LOG_LINES);
  };
  proc.stdout?.on("data", keep);
  proc.stderr?.on("data", keep);
  // A spawn failure (missing binary) surfaces as an exit the health wait reports.
  proc.on("error", (e) => log.push(`spawn failed: ${e.message}`));
  const tail = (n: number): string[] => [...log, ...(partial ? [partial] : [])].slice(-n);
  return { service: { name, url: `http://127.0.0.1:${port}`, port, tail }, proc };
}

const alive = (p: ChildProcess): boolean => p.exitCode === null && p.signalCode === null && p.pid !== undefined;

function signalGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  if (p.pid === undefined) return;
  try {
    process.kill(-p.pid, signal);
  } catch {
    /* the group is already gone */
  }
}

async function healthy(child: Child, deadline: number, gaveUp: () => boolean): Promise<string | undefined> {
  while (Date.now() < deadline && !gaveUp()) {
    if (!alive(child.proc)) return `${child.service.name} exited (${child.proc.signalCode ?? child.proc.exitCode}) before it answered /healthz`;
    try {
      const r = await fetch(`${child.service.url}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return undefined;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return gaveUp() ? undefined : `${child.service.name} did not answer GET /healthz with 200 in time`;
}

export function createLauncher(opts: SystemOptions): Launcher {
  const children: Child[] = [];
  let planned: Promise<{ origin: Service; edge: Service }> | undefined;

  async function spawnBoth(): Promise<{ origin: Service; edge: Service }> {
    const originPort = opts.originPort ?? (await freePort());
    const edgePort = opts.edgePort ?? (await freePort());
    // wrangler's inspector defaults to 9229; a running `pnpm start` would already hold it.
    const inspectorPort = await freePort();
    const edgeDir = join(opts.dataDir, "edge");
    mkdirSync(edgeDir, { recursive: true });
    // The secret goes to wrangler through an env file, not argv, so `ps` never shows it.
    const envFile = join(edgeDir, "edge.env");
    writeFileSync(envFile, `KAKUNIN_EDGE_SECRET=${opts.edgeSecret}\nORIGIN_URL=http://127.0.0.1:${originPort}\n`, { mode: 0o600 });
    const edge = launch("edge", edgePort, join(opts.root, "node_modules/.bin/wrangler"), [
      "dev", "--port", String(edgePort), "--ip", "127.0.0.1", "--inspector-port", String(inspectorPort),
      "--persist-to", join(edgeDir, "state"), "--env-file", envFile, "--log-level", "warn", "--show-interactive-dev-session=false",
    ], opts.root, { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" });
    children.push(edge);
    const origin = launch("origin", originPort, process.execPath, ["--import", "tsx", "src/main.ts"], join(opts.root, "origin"), {
      ...process.env,
      KAKUNIN_ORIGIN_PORT: String(originPort),
      KAKUNIN_DATA_DIR: join(opts.dataDir, "origin"),
      KAKUNIN_EDGE_URL: `http://127.0.0.1:${edgePort}`,
      KAKUNIN_EDGE_SECRET: opts.edgeSecret,
      KAKUNIN_ADMIN_KEY: opts.adminKey,
      // One agent is certified: a one-key pool is ready by then, and a bigger one would keep both
      // cores busy generating RSA keys while the story runs.
      KAKUNIN_LOCAL_KEY_POOL: "1",
    });
    children.push(origin);
    return { origin: origin.service, edge: edge.service };
  }

  return {
    plan: () => (planned ??= spawnBoth()),
    async waitHealthy(timeoutMs) {
      const s = await (planned ??= spawnBoth());
      const deadline = Date.now() + timeoutMs;
      // The first failure ends the wait for the other: no point starting half a system.
      let failed: string | undefined;
      await Promise.all(children.map(async (ch) => {
        const e = await healthy(ch, deadline, () => failed !== undefined);
        failed ??= e;
      }));
      return failed ? { ok: false, error: failed } : { ok: true, ...s };
    },
    async stop() {
      // Ctrl-C while the ports are being chosen: the children are spawned right after, so wait for
      // that and stop them too. Read before it, `running` was empty and the edge's wrangler,
      // spawned a moment later, outlived the demo (test/demo.e2e.test.ts, Ctrl-C case, flaky).
      if (planned) await planned.catch(() => undefined);
      const running = children.filter((ch) => alive(ch.proc));
      const exited = running.map((ch) => new Promise<void>((r) => ch.proc.once("exit", () => r())));
      for (const ch of running) signalGroup(ch.proc, "SIGTERM");
      const force = setTimeout(() => running.forEach((ch) => signalGroup(ch.proc, "SIGKILL")), 5000);
      await Promise.all(exited);
      clearTimeout(force);
      // workerd can outlive wrangler for a moment; the group signal reaches it, this makes sure.
      for (const ch of running) signalGroup(ch.proc, "SIGKILL");
    },
    killNow() {
      for (const ch of children) signalGroup(ch.proc, "SIGKILL");
    },
    services: () => children.map((ch) => ch.service),
  };
}
