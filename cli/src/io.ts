/** Where a command writes; the process streams in main.ts, buffers in tests. */
export interface Io {
  /** Text for a person or a script: characters that steer a terminal are shown escaped (terminal-safe.ts). */
  out(text: string): void;
  err(text: string): void;
  /** Bytes exactly as given, on stdout: a bundle streamed to `--out -`, whose text is hashed. */
  raw(text: string): void;
  /** Exactly as given, on stderr: the progress bar's own redraw sequences. */
  rawErr(text: string): void;
  /** Whether stderr is a terminal: progress bars redraw in place only there. */
  errIsTty: boolean;
}

/**
 * Exit codes: scripts and CI branch on these, so they are part of the CLI's interface (listed in
 * `kakunin --help`).
 *  0 ok; 1 a negative answer (verify: not valid, audit verify: failed, events send: a batch
 *  rejected); 2 usage or local I/O error; 3 the API refused (a 4xx problem); 4 the API is
 *  unreachable or failed (network error, timeout, 5xx); 70 an internal error of the CLI (a bug).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3, unavailable: 4, internal: 70 } as const;

/** A usage problem: one line on stderr, then the command's help, exit code 2. */
export class UsageError extends Error {
  constructor(message: string, readonly help?: string) {
    super(message);
  }
}

/** A local file or configuration problem: also exit code 2, but the help text would not help. */
export class IoError extends Error {}
