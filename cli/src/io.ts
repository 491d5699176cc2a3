/** Where a command writes; the process streams in main.ts, buffers in tests. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

/** Exit codes: scripts and CI branch on these, so they are part of the CLI's interface. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A usage or I/O problem: reported on stderr with exit code 2, never as a verification failure. */
export class UsageError extends Error {}

/** A file that cannot be read or parsed: also exit code 2, but the usage text would not help. */
export class IoError extends UsageError {}
