import { readFileSync } from "node:fs";

/** CPU seconds (user + system) a process has used: all its threads, and its main (event-loop) thread. */
export interface CpuTimes {
  processS: number;
  mainThreadS: number;
}

// Linux reports times in clock ticks; USER_HZ is 100 on every mainstream kernel configuration.
const TICKS_PER_S = 100;

function ticks(statPath: string, children = false): number {
  // Fields after the command name (which may contain spaces, hence the last ')'): utime is the 14th
  // field of the line, stime the 15th, cutime and cstime (waited-for children) the 16th and 17th (proc(5)).
  const stat = readFileSync(statPath, "utf8");
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return children ? Number(rest[13]) + Number(rest[14]) : Number(rest[11]) + Number(rest[12]);
}

/** CPU seconds used by this process's finished (waited-for) children, e.g. the openssl runs; NaN off Linux. */
export function childrenCpuS(): number {
  try {
    return ticks("/proc/self/stat", true) / TICKS_PER_S;
  } catch {
    return Number.NaN;
  }
}

/** Undefined where /proc is missing (not Linux): the report then leaves the CPU columns out. */
export function cpuTimes(pid: number): CpuTimes | undefined {
  try {
    return { processS: ticks(`/proc/${pid}/stat`) / TICKS_PER_S, mainThreadS: ticks(`/proc/${pid}/task/${pid}/stat`) / TICKS_PER_S };
  } catch {
    return undefined;
  }
}
