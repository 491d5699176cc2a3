/** `kakunin audit verify <bundle.json> [--root root.pem] [--json]`. */
import { readFile } from "node:fs/promises";
import { EXIT, IoError, UsageError, type Io } from "./io.ts";
import { USAGE } from "./usage.ts";
import { renderReport } from "./verify/render.ts";
import { verifyBundle } from "./verify/index.ts";

interface Args {
  file: string;
  root?: string;
  json: boolean;
}

function parseArgs(argv: string[]): Args | "help" {
  let file: string | undefined;
  let root: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "-h" || a === "--help") return "help";
    if (a === "--json") json = true;
    else if (a === "--root") {
      root = argv[++i];
      if (root === undefined || root.startsWith("--")) throw new UsageError("--root needs a PEM file");
    } else if (a.startsWith("--root=")) root = a.slice("--root=".length);
    else if (a.startsWith("-")) throw new UsageError(`unknown option ${a}`);
    else if (file !== undefined) throw new UsageError(`one bundle file at a time (got ${file} and ${a})`);
    else file = a;
  }
  if (file === undefined) throw new UsageError("missing <bundle.json>");
  return { file, root, json };
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw new IoError(`cannot read ${what} ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export async function auditVerify(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv);
  if (args === "help") {
    io.out(USAGE);
    return EXIT.ok;
  }
  const text = await readText(args.file, "bundle");
  const rootPem = args.root === undefined ? undefined : await readText(args.root, "root certificate");
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new IoError(`${args.file} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const report = await verifyBundle(doc, { rootPem });
  io.out(args.json ? `${JSON.stringify({ file: args.file, ...report }, null, 2)}\n` : renderReport(report, args.file));
  return report.ok ? EXIT.ok : EXIT.failed;
}
