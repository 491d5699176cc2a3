import { execFile, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TestOrigin } from "../../../origin/test/harness.ts";
import { freePort, type Proc } from "../../../test/support/system.ts";
import { TEST_CLI_ENV, TEST_ORIGIN_ENV } from "../../../test/support/test-build.ts";

/**
 * The CLI's launcher: the build test/support/test-build.ts made for this run (the installed
 * layout), else the repository's bin/kakunin.mjs, which runs the sources through tsx.
 */
export const CLI = process.env[TEST_CLI_ENV] ?? resolve(import.meta.dirname, "../../bin/kakunin.mjs");
const ORIGIN_DIR = resolve(import.meta.dirname, "../../../origin");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment without anything KAKUNIN_* of the developer's shell, plus `env`. */
export function cleanEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("KAKUNIN_")));
  return { ...base, ...env };
}

/** Runs the real CLI, as a user would, through the bin launcher in a child process. */
export function kakunin(env: Record<string, string>, ...args: string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [CLI, ...args], { env: cleanEnv(env), maxBuffer: 64 << 20 }, (e, stdout, stderr) => {
      const code = e ? (typeof e.code === "number" ? e.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** Parses a `--json` run's stdout, failing the test with the run's output when it is not one document. */
export function parsed<T>(r: Run): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/**
 * The real origin started WITHOUT KAKUNIN_ADMIN_KEY (test/support/system.ts always sets one), as
 * `pnpm start` on a fresh machine (this run's build of the sources, as startOrigin); no edge
 * (publishing off).
 */
export async function originWithoutAdminKey(dataDir: string): Promise<Proc> {
  const port = await freePort();
  const built = process.env[TEST_ORIGIN_ENV];
  const proc = spawn(process.execPath, built ? [built] : ["--import", "tsx", "src/main.ts"], {
    cwd: ORIGIN_DIR, detached: true, stdio: ["ignore", "pipe", "pipe"],
    env: cleanEnv({ KAKUNIN_ORIGIN_PORT: String(port), KAKUNIN_DATA_DIR: dataDir, KAKUNIN_PUBLISH: "off" }),
  });
  let out = "";
  const keep = (c: Buffer) => { out = (out + c.toString()).slice(-20_000); };
  proc.stdout.on("data", keep);
  proc.stderr.on("data", keep);
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => proc.once("exit", () => r()));
    try { process.kill(-proc.pid!, "SIGTERM"); } catch { /* gone */ }
    await exited;
  };
  for (const deadline = Date.now() + 60_000; Date.now() < deadline;) {
    if (proc.exitCode !== null) throw new Error(`origin exited (${proc.exitCode}):\n${out}`);
    const up = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (up) return { url, port, stop, log: () => out };
    await new Promise((r) => setTimeout(r, 150));
  }
  await stop();
  throw new Error(`origin not healthy within 60 s:\n${out}`);
}

/** The origin's root CA certificate (GET /v1/ca), also written to `dir`/root.pem for `--root`. */
export async function fetchRoot(o: TestOrigin, dir: string): Promise<{ rootPem: string; rootFile: string }> {
  const rootPem = (await o.json<{ data: { root: { certificate_pem: string } } }>("GET", "/v1/ca")).body.data.root.certificate_pem;
  const rootFile = join(dir, "root.pem");
  writeFileSync(rootFile, rootPem);
  return { rootPem, rootFile };
}
