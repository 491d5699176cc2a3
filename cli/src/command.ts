import type { OptionSpec, Parsed } from "./args.ts";
import type { Io } from "./io.ts";

/**
 * One `kakunin` command. main.ts parses its options (answering `--help` itself) and runs it; the
 * returned number is the exit code (io.ts EXIT).
 */
export interface Command {
  /** As typed: `agents create`, `verify`. */
  name: string;
  /** The usage line without `kakunin `, listed by `kakunin --help` and the group's help. */
  synopsis: string;
  /** What it does, in one line. */
  summary: string;
  /** Full help: starts with `Usage: kakunin ...`, printed on stdout for `--help`. */
  help: string;
  spec: OptionSpec;
  run(args: Parsed, io: Io): Promise<number>;
}
