import { readdirSync } from "node:fs";
import { HZ, listeners, procStat } from "../common/proc.ts";

/**
 * CPU time of whole process groups, read from /proc (Linux only), to show where an event's cost
 * goes: the edge (wrangler dev: its workerd proxy and the runtime with the Durable Objects and KV
 * simulator, one group) and the origin, which takes in the events the Durable Objects forward.
 */

/** The process group of whoever listens on 127.0.0.1:`port`, or undefined. */
export function groupListeningOn(port: number): number | undefined {
  if (process.platform !== "linux") return undefined;
  const pid = listeners().find(([p]) => p === port)?.[1];
  return pid === undefined ? undefined : procStat(pid)?.pgrp;
}

/** CPU seconds used so far by the live processes of each group (exited ones are not counted). */
export function groupCpu(groups: readonly number[]): number[] {
  const totals = groups.map(() => 0);
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const s = procStat(Number(d));
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
