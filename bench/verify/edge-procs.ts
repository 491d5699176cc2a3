import { readdirSync, readFileSync } from "node:fs";
import { HZ, listeners, procStat as stat } from "../common/proc.ts";

/**
 * CPU time of the edge's processes, read from /proc (Linux only), to see where a request's time
 * goes. `wrangler dev` runs two workerd processes: a proxy that owns the dev port and forwards
 * every request, and the runtime that runs the Worker together with the local KV and Durable
 * Object simulators. wrangler's own Node process is not on the request path.
 */
export interface ProcCpu {
  label: string;
  pid: number;
}

/** The workerd processes under the wrangler dev that listens on `port`; empty when not on Linux. */
export function edgeProcesses(port: number): ProcCpu[] {
  if (process.platform !== "linux") return [];
  const procs = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
  const parent = new Map<number, number>();
  const roots: number[] = [];
  for (const pid of procs) {
    const s = stat(pid);
    if (!s) continue;
    parent.set(pid, s.ppid);
    let cmd = "";
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8"); } catch { /* gone */ }
    if (cmd.includes("wrangler") && cmd.includes(`--port\0${port}\0`)) roots.push(pid);
  }
  const under = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (roots.includes(p)) return true;
    return false;
  };
  const listener = listeners().find(([p]) => p === port)?.[1];
  return procs
    .filter((pid) => stat(pid)?.comm === "workerd" && under(pid))
    .map((pid) => ({ pid, label: pid === listener ? "workerd proxy (dev port)" : "workerd runtime (Worker, KV, DOs)" }));
}

/**
 * CPU seconds per label since the snapshot, summed over that label's processes (NaN if one of
 * them exited meanwhile), and whether the set of processes changed: wrangler dev restarts the
 * runtime when a watched source file changes, and the numbers of that run are then suspect.
 */
export function cpuSince(watch: () => readonly ProcCpu[]): () => { seconds: Map<string, number>; changed: boolean } {
  const procs = watch();
  const before = procs.map((p) => stat(p.pid)?.ticks);
  return () => {
    const seconds = new Map<string, number>();
    procs.forEach((p, i) => {
      const end = stat(p.pid)?.ticks;
      const used = end === undefined || before[i] === undefined ? Number.NaN : (end - before[i]) / HZ;
      seconds.set(p.label, (seconds.get(p.label) ?? 0) + used);
    });
    const now = watch().map((p) => p.pid).sort().join();
    return { seconds, changed: now !== procs.map((p) => p.pid).sort().join() };
  };
}

/**
 * The runtime workerd's own entry socket, found by asking each port it listens on for /healthz.
 * Requests sent there skip the dev proxy, which isolates the proxy's cost from the Worker's and
 * KV's. This leans on wrangler internals, so it is a diagnostic only: undefined when not found.
 */
export async function runtimeEntryUrl(procs: readonly ProcCpu[]): Promise<string | undefined> {
  const runtimes = new Set(procs.filter((p) => p.label.startsWith("workerd runtime")).map((p) => p.pid));
  for (const [port, pid] of listeners()) {
    if (!runtimes.has(pid)) continue;
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.status === 200 && (await r.text()).includes('"ok"')) return `http://127.0.0.1:${port}`;
    } catch {
      /* not the entry socket */
    }
  }
  return undefined;
}
