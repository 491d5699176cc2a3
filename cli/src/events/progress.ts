/**
 * Progress of `events send` on stderr: a bar redrawn in place on a terminal, a plain line at
 * most once a second otherwise (CI logs), nothing at all with --json. stdout stays for the result.
 */
import type { Io } from "../io.ts";

const WIDTH = 30;

/** One frame of the bar, e.g. `[#########.....]  600/1200 events  50%`. */
export function progressBar(done: number, total: number, width = WIDTH): string {
  const ratio = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(ratio * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${String(done).padStart(String(total).length)}/${total} events ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

export interface Progress {
  update(done: number): void;
  /** Extra news (a retry) without breaking the bar. */
  note(text: string): void;
  finish(): void;
}

export function progress(io: Io, total: number, mode: "tty" | "lines" | "off", now: () => number = Date.now): Progress {
  let last = 0;
  let drawn = false;
  const clear = () => {
    if (drawn) io.rawErr("\r\x1b[K");
    drawn = false;
  };
  return {
    update(done) {
      if (mode === "tty") {
        io.rawErr(`\r${progressBar(done, total)}`);
        drawn = true;
      } else if (mode === "lines" && now() - last >= 1000 && done < total) {
        last = now();
        io.err(`kakunin: sent ${done}/${total} events\n`);
      }
    },
    note(text) {
      if (mode === "off") return;
      clear();
      io.err(`kakunin: ${text}\n`);
    },
    finish() {
      clear();
    },
  };
}
