import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time of whole process groups, read from /proc (Linux only), to show where an event's cost
 * goes: the edge (wrangler dev: its workerd proxy and the runtime with the Durable Objects and KV
 * simulator, one group) and the origin, which takes in the events the Durable Objects forward.
 */
function ticksPerSecond(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}
const HZ = ticksPerSecond();

function stat(pid: number): { pgrp: number; ticks: number } | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm is parenthesised and may contain spaces; the fields after it are space-separated.
    const rest = raw.slice(raw.lastIndexOf(")") + 2).split(" ");
    return { pgrp: Number(rest[2]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/** The process group of whoever listens on 127.0.0.1:`port` (from `ss`), or undefined. */
export function groupListeningOn(port: number): number | undefined {
  if (process.platform !== "linux") return undefined;
  try {
    const out = execFileSync("ss", ["-ltnpH"], { encoding: "utf8" });
    const m = new RegExp(`127\\.0\\.0\\.1:${port}\\s.*?pid=(\\d+),`).exec(out);
    return m ? stat(Number(m[1]))?.pgrp : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds used so far by the live processes of each group (exited ones are not counted). */
export function groupCpu(groups: readonly number[]): number[] {
  const totals = groups.map(() => 0);
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const s = stat(Number(d));
    const i = s ? groups.indexOf(s.pgrp) : -1;
    if (s && i >= 0) totals[i]! += s.ticks / HZ;
  }
  return totals;
}

/**
 * Polls every 500 ms until the groups together use under `idleCores`; returns the time waited, or
 * undefined when they were still busy after `maxMs`.
 */
export async function settle(groups: readonly number[], idleCores: number, maxMs: number): Promise<number | undefined> {
  if (groups.length === 0) return 0;
  const total = (): number => groupCpu(groups).reduce((a, b) => a + b, 0);
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const before = total();
    await new Promise((r) => setTimeout(r, 500));
    if (total() - before < idleCores * 0.5) return performance.now() - t0;
  }
  return undefined;
}
