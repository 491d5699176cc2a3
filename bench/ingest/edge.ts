import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort, type Proc } from "../../test/support/system.ts";

const ROOT = resolve(import.meta.dirname, "../..");

async function waitHealthy(url: string, proc: ChildProcess, log: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`wrangler dev exited (${proc.exitCode}) before ${url} was healthy:\n${log()}`);
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${url} not healthy within ${timeoutMs} ms:\n${log()}`);
}

/**
 * The real edge (`wrangler dev`, workerd), as test/support/system.ts starts it, except that the env
 * file also sets KAKUNIN_BENCH_NOOP=1, which enables the POST /bench/noop baseline route, plus any
 * `vars` (e.g. KAKUNIN_LEDGER_SHARDS for bench/edge). Copied
 * rather than parameterised so the e2e helper stays free of benchmark switches.
 */
export async function startBenchEdge(opts: { port: number; persistDir: string; originUrl: string; secret: string; vars?: Record<string, string> }): Promise<Proc> {
  const envFile = join(opts.persistDir, "edge.env");
  const extra = Object.entries(opts.vars ?? {}).map(([k, v]) => `${k}=${v}\n`).join("");
  writeFileSync(envFile, `KAKUNIN_EDGE_SECRET=${opts.secret}\nORIGIN_URL=${opts.originUrl}\nKAKUNIN_BENCH_NOOP=1\n${extra}`);
  const proc = spawn(join(ROOT, "node_modules/.bin/wrangler"), [
    "dev", "--port", String(opts.port), "--ip", "127.0.0.1", "--inspector-port", String(await freePort()),
    "--persist-to", join(opts.persistDir, "state"), "--env-file", envFile, "--log-level", "warn", "--show-interactive-dev-session=false",
  ], {
    cwd: ROOT, env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
    // Own process group, so stopping it also stops the workerd children wrangler spawns.
    stdio: ["ignore", "pipe", "pipe"], detached: true,
  });
  let out = "";
  const keep = (c: Buffer): void => { out = (out + c.toString()).slice(-20_000); };
  proc.stdout.on("data", keep);
  proc.stderr.on("data", keep);
  const log = (): string => out;
  const stop = async (signal: NodeJS.Signals = "SIGTERM"): Promise<void> => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once("exit", () => r()));
    try { process.kill(-proc.pid!, signal); } catch { /* gone */ }
    const timer = setTimeout(() => { try { process.kill(-proc.pid!, "SIGKILL"); } catch { /* gone */ } }, 8000);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${opts.port}`;
  try {
    await waitHealthy(`${url}/healthz`, proc, log, 90_000);
  } catch (e) {
    await stop("SIGKILL");
    throw e;
  }
  return { url, port: opts.port, stop, log };
}
