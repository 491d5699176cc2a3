import { spawn } from "node:child_process";

export interface Child {
  pid: number;
  /** The first capture group of `ready` (e.g. a port), once it appeared in the output. */
  ready: string;
  stop(): Promise<void>;
  log(): string;
  exited(): boolean;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Not a group leader (or already gone): signal the process itself.
    try { process.kill(pid, signal); } catch { /* already gone */ }
  }
}

/**
 * Starts a helper process and waits until its output matches `ready`. With `detached` it gets its
 * own session and process group. `openssl ocsp -multi` must NOT be detached: it calls
 * setpgid() itself, which fails for a session leader, and then exits silently (syslog only).
 * Stopping signals the process group (SIGTERM, then SIGKILL): the -multi parent only notices
 * SIGTERM once a forked worker exits, and the workers must not outlive it.
 */
export function startChild(cmd: string, args: string[], opts: { cwd: string; ready: RegExp; timeoutMs: number; detached: boolean }): Promise<Child> {
  const proc = spawn(cmd, args, { cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"], detached: opts.detached });
  let out = "";
  const gone = (): boolean => proc.exitCode !== null || proc.signalCode !== null;
  const exited = new Promise<void>((r) => proc.once("exit", () => r()));
  const stop = async (): Promise<void> => {
    const pid = proc.pid;
    if (pid === undefined) return;
    if (!gone()) {
      signalGroup(pid, "SIGTERM");
      const timer = setTimeout(() => signalGroup(pid, "SIGKILL"), 1500);
      await exited;
      clearTimeout(timer);
    }
    // The group may outlive its leader (forked workers): make sure nothing is left listening.
    try { process.kill(-pid, "SIGKILL"); } catch { /* no such group */ }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { void stop(); reject(new Error(`${cmd} not ready within ${opts.timeoutMs} ms:\n${out}`)); }, opts.timeoutMs);
    const onData = (c: Buffer): void => {
      out = (out + c.toString()).slice(-20_000);
      const m = opts.ready.exec(out);
      if (m && proc.pid !== undefined) {
        clearTimeout(timer);
        resolve({ pid: proc.pid, ready: m[1] ?? "", stop, log: () => out, exited: gone });
      }
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    proc.once("error", (e) => { clearTimeout(timer); reject(e); });
    proc.once("exit", (code) => { clearTimeout(timer); reject(new Error(`${cmd} exited (${code}) before it was ready:\n${out}`)); });
  });
}
