/**
 * `kakunin` entry point: dispatches to one file per command. Output goes through process
 * streams with exitCode set (not process.exit), so a large report piped to a file is not cut off.
 */
import { auditVerify } from "./audit-verify.ts";
import { EXIT, IoError, UsageError, type Io } from "./io.ts";
import { USAGE } from "./usage.ts";

const io: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) };

async function dispatch(argv: string[]): Promise<number> {
  const [group, command, ...rest] = argv;
  if (group === "-h" || group === "--help" || group === "help") {
    io.out(USAGE);
    return EXIT.ok;
  }
  if (group === "audit" && command === "verify") return auditVerify(rest, io);
  if (group === "audit" && (command === "-h" || command === "--help")) {
    io.out(USAGE);
    return EXIT.ok;
  }
  throw new UsageError(group === undefined ? "no command given" : `unknown command: ${[group, command].filter(Boolean).join(" ")}`);
}

try {
  process.exitCode = await dispatch(process.argv.slice(2));
} catch (e) {
  if (!(e instanceof UsageError)) throw e;
  io.err(e instanceof IoError ? `kakunin: ${e.message}\n` : `kakunin: ${e.message}\n\n${USAGE}`);
  process.exitCode = EXIT.usage;
}
