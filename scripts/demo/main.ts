/**
 * `pnpm demo`: starts a throwaway origin + edge and tells the whole Kakunin story in numbered
 * steps. Exit 0 when every step held; 1 with the failing step and the services' last log lines
 * otherwise; 130 on Ctrl-C. The processes are stopped and the temp dir removed in every case
 * (unless --keep, which keeps the dir for a look at the evidence bundle).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createLauncher, type Service } from "./launcher.ts";
import { c, failure, line, seconds } from "./output.ts";
import { createRunner } from "./runner.ts";
import { runStory, TITLE } from "./story.ts";

const USAGE = `usage: pnpm demo [--keep] [--origin-port N] [--edge-port N]

  --keep             keep the temp dir (databases, edge state, evidence bundle) and print its path
  --origin-port N    origin port (default: a free one, so it runs beside \`pnpm start\`)
  --edge-port N      edge port (default: a free one)
`;

interface Args {
  keep: boolean;
  originPort?: number;
  edgePort?: number;
}

function parseArgs(argv: string[]): Args | string {
  const args: Args = { keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--keep") args.keep = true;
    else if (a === "--origin-port" || a === "--edge-port") {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 65535) return `${a} needs a port number`;
      if (a === "--origin-port") args.originPort = n;
      else args.edgePort = n;
    } else if (a === "-h" || a === "--help") return "";
    else return `unknown argument ${a}`;
  }
  return args;
}

function printTails(services: Service[]): void {
  for (const s of services) {
    const tail = s.tail(25);
    failure(`--- ${s.name} log, last ${tail.length} lines ---`);
    process.stderr.write(tail.length ? `${tail.join("\n")}\n` : "(nothing printed)\n");
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === "string") {
    if (args) failure(`demo: ${args}`);
    process.stdout.write(USAGE);
    return args ? 2 : 0;
  }
  const root = resolve(import.meta.dirname, "../..");
  const dataDir = mkdtempSync(join(tmpdir(), "kakunin-demo-"));
  const adminKey = `demo-admin-${randomBytes(16).toString("hex")}`;
  const launcher = createLauncher({
    root, dataDir, adminKey, originPort: args.originPort, edgePort: args.edgePort, edgeSecret: randomBytes(32).toString("base64url"),
  });
  const cleanup = (): void => {
    launcher.killNow();
    if (!args.keep) rmSync(dataDir, { recursive: true, force: true });
  };
  // Whatever ends the process (an uncaught error included), nothing it started outlives it.
  process.on("exit", cleanup);
  // Ctrl-C exits from here, at once: the story may be inside a long wait that would outlast it.
  let interrupted: Promise<never> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    failure(`\n${signal}: stopping origin and edge`);
    interrupted = launcher.stop().then(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  line(TITLE);
  const t0 = performance.now();
  const result = await runStory({ run: createRunner(), launcher, root, dataDir, adminKey });
  if (interrupted) return interrupted;
  await launcher.stop();
  const total = seconds(performance.now() - t0);
  if (!result.ok) {
    const { step, title, message } = result.failed;
    failure(`\n✗ step ${step} (${title}) failed: ${message}`);
    printTails(launcher.services());
    failure(`demo failed after ${total}; origin and edge stopped`);
    return 1;
  }
  line();
  line(`${c.green("✓")} ${c.bold(`all ${result.steps} steps passed`)}, total ${c.bold(total)}; origin and edge stopped`);
  line(`evidence report: ${result.reportFile}`);
  if (args.keep) line(`kept ${dataDir} (evidence bundle: ${result.evidenceFile})`);
  return 0;
}

process.exitCode = await main();
