import { readFileSync } from "node:fs";

/** CPU seconds (user + system) a process has used: all its threads, and its main (event-loop) thread. */
export interface CpuTimes {
  processS: number;
  mainThreadS: number;
}

// Linux reports times in clock ticks; USER_HZ is 100 on every mainstream kernel configuration.
const TICKS_PER_S = 100;

function ticks(statPath: string): number {
  // Fields after the command name (which may contain spaces, hence the last ')'): utime is the 14th
  // field of the line, stime the 15th (proc(5)).
  const stat = readFileSync(statPath, "utf8");
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(rest[11]) + Number(rest[12]);
}

/** Undefined where /proc is missing (not Linux): the report then leaves the CPU columns out. */
export function cpuTimes(pid: number): CpuTimes | undefined {
  try {
    return { processS: ticks(`/proc/${pid}/stat`) / TICKS_PER_S, mainThreadS: ticks(`/proc/${pid}/task/${pid}/stat`) / TICKS_PER_S };
  } catch {
    return undefined;
  }
}
