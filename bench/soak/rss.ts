import { readdirSync, readFileSync } from "node:fs";
import { listeners, procStat } from "../common/proc.ts";

/**
 * Resident memory of every process in a process group, by process: `wrangler dev` is a Node
 * wrapper (wrangler, miniflare), one or more workerd runtimes and esbuild, and the soak must say
 * which of them grows, not only the one that happens to own the listening socket.
 */
export interface ProcRss {
  pid: number;
  name: string;
  rssMb: number;
}

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** What a process is, from its command line: `node (wrangler)`, `workerd`, `esbuild`, ... */
function nameOf(pid: number, comm: string): string {
  let cmd = "";
  try {
    cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
  } catch {
    /* gone */
  }
  if (/workerd/.test(comm) || /\bworkerd\b/.test(cmd)) return "workerd";
  if (/esbuild/.test(comm)) return "esbuild";
  if (/wrangler/.test(cmd)) return "node (wrangler)";
  return comm;
}

/** The process group of the process listening on 127.0.0.1:`port`. */
export function groupOfPort(port: number): number | undefined {
  const pid = listeners().find(([p]) => p === port)?.[1];
  return pid === undefined ? undefined : procStat(pid)?.pgrp;
}

/** Every live process of group `pgrp` with its RSS, in pid order. */
export function groupRss(pgrp: number): ProcRss[] {
  const out: ProcRss[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const s = procStat(Number(d));
    if (s?.pgrp === pgrp) out.push({ pid: Number(d), name: nameOf(Number(d), s.comm), rssMb: rssOf(Number(d)) });
  }
  return out.sort((a, b) => a.pid - b.pid);
}
