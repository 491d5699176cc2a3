/**
 * `kakunin` entry point: finds the command (one file each, commands/index.ts), parses its options,
 * runs it. Output goes through process streams with exitCode set (not process.exit), so a large
 * report piped to a file is not cut off.
 */
import { parse } from "./args.ts";
import type { Command } from "./command.ts";
import { COMMANDS, GROUPS } from "./commands/index.ts";
import { EXIT, IoError, UsageError, type Io } from "./io.ts";
import { terminalSafe } from "./terminal-safe.ts";
import { groupHelp, USAGE } from "./usage.ts";
import { cliVersion } from "./version.ts";

// A reader that stops early (`kakunin audit verify f | head`) closes the pipe: writes then fail with
// EPIPE. That is not a failure of the command, so output is dropped from then on and the command
// finishes with its own exit code (a script reading PIPESTATUS still gets the verdict), instead of
// dying on an unhandled 'error' event with a stack trace.
let stdoutClosed = false;
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code !== "EPIPE") throw e;
  stdoutClosed = true;
});
const raw = (t: string) => {
  if (!stdoutClosed) process.stdout.write(t);
};
const rawErr = (t: string) => {
  process.stderr.write(t);
};
const io: Io = {
  out: (t) => raw(terminalSafe(t)),
  err: (t) => rawErr(terminalSafe(t)),
  raw,
  rawErr,
  errIsTty: process.stderr.isTTY === true,
};

const isHelp = (a: string | undefined) => a === "-h" || a === "--help" || a === "help";

/** The command named by the first one or two words, and the arguments after them. */
function find(argv: readonly string[]): { cmd: Command; rest: string[] } | "help" | { help: string } {
  const [first, second] = argv;
  if (isHelp(first)) return "help";
  if (first === "--version" || first === "-V" || first === "version") return { help: `kakunin ${cliVersion()}\n` };
  if (first === undefined) throw new UsageError("no command given", USAGE);
  const single = COMMANDS.find((c) => c.name === first);
  if (single) return { cmd: single, rest: argv.slice(1) };
  if (!GROUPS.includes(first)) throw new UsageError(`unknown command: ${first}`, USAGE);
  if (isHelp(second)) return { help: groupHelp(first) };
  // A group alone (or followed by options) that lists something lists it, as `git branch` does:
  // `kakunin webhooks` is the tenant's webhooks. Groups without a list still ask which command.
  if (second === undefined || second.startsWith("-")) {
    const list = COMMANDS.find((c) => c.name === `${first} list`);
    if (list) return { cmd: list, rest: argv.slice(1) };
    if (second === undefined) throw new UsageError(`${first}: which command?`, groupHelp(first));
  }
  const cmd = COMMANDS.find((c) => c.name === `${first} ${second}`);
  if (!cmd) throw new UsageError(`unknown command: ${first} ${second}`, groupHelp(first));
  return { cmd, rest: argv.slice(2) };
}

async function dispatch(argv: readonly string[]): Promise<number> {
  const found = find(argv);
  if (found === "help" || "help" in found) {
    io.out(found === "help" ? USAGE : found.help);
    return EXIT.ok;
  }
  const args = parse(found.rest, found.cmd.spec, found.cmd.help);
  if (args === "help") {
    io.out(found.cmd.help);
    return EXIT.ok;
  }
  return found.cmd.run(args, io);
}

try {
  process.exitCode = await dispatch(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    io.err(`kakunin: ${e.message}\n\n${e.help ?? USAGE}`);
    process.exitCode = EXIT.usage;
  } else if (e instanceof IoError) {
    io.err(`kakunin: ${e.message}\n`);
    process.exitCode = EXIT.usage;
  } else {
    // A bug, not an answer: its own exit code, so no script mistakes it for "not valid" (1).
    io.err(`kakunin: internal error (please report): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = EXIT.internal;
  }
}
