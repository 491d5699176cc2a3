import { spawn, type ChildProcess } from "node:child_process";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

export interface OriginProcess {
  baseUrl: string;
  pid: number;
  /** SIGTERM, then SIGKILL if the origin has not exited within a few seconds. Safe to call twice. */
  stop(): Promise<void>;
}

export interface OriginOptions {
  dataDir: string;
  adminKey: string;
  /** KAKUNIN_LOCAL_KEY_POOL; unset keeps the origin's default. 0 puts key generation on every certify. */
  keyPool?: number;
  /** Another checkout's origin/src/main.ts (with its node_modules), e.g. main's code for a before/after run. */
  mainPath?: string;
}

const STARTUP_MS = 90_000;
/** main.ts's JSON start-up line: `{"msg":"listening",...,"url":"http://127.0.0.1:<port>",...}`. */
const LISTENING = /"msg":"listening".*?"url":"(http:\/\/127\.0\.0\.1:\d+)"/;

/**
 * Starts the origin exactly as `pnpm --filter @kakunin/origin start` does (its main.ts under tsx),
 * so the benchmark measures the production entry point: node-server HTTP, PGlite on disk, local
 * KeyManager with its default pool (or `keyPool`). Port 0 lets the OS pick a free port; main.ts logs it.
 */
export async function startOrigin(opts: OriginOptions): Promise<OriginProcess> {
  const mainPath = opts.mainPath ?? fileURLToPath(import.meta.resolve("@kakunin/origin/main"));
  const originDir = dirname(dirname(mainPath));
  const child = spawn(process.execPath, ["--import", "tsx", mainPath], {
    cwd: originDir,
    env: originEnv(opts),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stop = stopper(child);
  try {
    const baseUrl = await waitForListening(child);
    return { baseUrl, pid: child.pid ?? -1, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The caller's environment minus anything that would select another database or key backend. */
function originEnv(opts: OriginOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("KAKUNIN_") || k.startsWith("AWS_") || k === "DATABASE_URL") continue;
    env[k] = v;
  }
  return {
    ...env,
    KAKUNIN_DATA_DIR: opts.dataDir,
    KAKUNIN_ORIGIN_HOST: "127.0.0.1",
    KAKUNIN_ORIGIN_PORT: "0",
    KAKUNIN_ADMIN_KEY: opts.adminKey,
    ...(opts.keyPool === undefined ? {} : { KAKUNIN_LOCAL_KEY_POOL: String(opts.keyPool) }),
  };
}

function waitForListening(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = "";
    let ready = false;
    const timer = setTimeout(() => fail(`origin did not start within ${STARTUP_MS / 1000} s`), STARTUP_MS);
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`${why}\n--- origin output ---\n${output.slice(-4000)}`));
    };
    // Stays attached after start-up so the pipes keep draining and a chatty origin never blocks.
    const onData = (chunk: Buffer) => {
      if (ready) return;
      output += chunk.toString();
      const m = LISTENING.exec(output);
      if (m?.[1]) {
        ready = true;
        clearTimeout(timer);
        child.off("exit", onExit);
        resolve(m[1]);
      }
    };
    const onExit = (code: number | null, signal: string | null) => fail(`origin exited during start-up (code ${code}, signal ${signal})`);
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", (e) => fail(`cannot start origin: ${e.message}`));
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill("SIGKILL"), 7000);
      child.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill("SIGTERM");
    });
    return stopping;
  };
}
