import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Linux /proc and `ss` readers the benchmarks use to attribute CPU time to processes. */

function ticksPerSecond(): number {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** Clock ticks per second: /proc reports CPU time in ticks. */
export const HZ = ticksPerSecond();

export interface ProcStat {
  ppid: number;
  pgrp: number;
  comm: string;
  /** User + system CPU time, in ticks. */
  ticks: number;
}

/** One process's /proc/<pid>/stat, or undefined when it is gone (or not Linux). */
export function procStat(pid: number): ProcStat | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm is parenthesised and may contain spaces; the fields after it are space-separated.
    const close = raw.lastIndexOf(")");
    const rest = raw.slice(close + 2).split(" ");
    return { comm: raw.slice(raw.indexOf("(") + 1, close), ppid: Number(rest[1]), pgrp: Number(rest[2]), ticks: Number(rest[11]) + Number(rest[12]) };
  } catch {
    return undefined;
  }
}

/** Listening TCP sockets on 127.0.0.1 as [port, pid] pairs, from `ss` (empty if it is missing). */
export function listeners(): [number, number][] {
  try {
    const out = execFileSync("ss", ["-ltnpH"], { encoding: "utf8" });
    return [...out.matchAll(/127\.0\.0\.1:(\d+)\s.*?pid=(\d+),/g)].map((m) => [Number(m[1]), Number(m[2])]);
  } catch {
    return [];
  }
}
