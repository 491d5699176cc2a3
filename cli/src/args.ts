/**
 * Argument parsing for every command: `--name value`, `--name=value`, repeatable options, boolean
 * flags, `-h`/`--help`, and `--` before positionals that start with a dash. Anything unknown is a
 * UsageError naming it, so a typo never silently changes what a command does.
 */
import { UsageError } from "./io.ts";

export interface OptionSpec {
  /** Options that take one value (the last one given wins). */
  strings?: readonly string[];
  /** Options that may be repeated, each with a value (`--scope a --scope b`). */
  lists?: readonly string[];
  booleans?: readonly string[];
  /** Single-letter aliases: `{ q: "quiet" }`. `-h` is always `--help`. */
  short?: Readonly<Record<string, string>>;
  /** Names of the positionals, in order; a trailing `?` marks one optional. */
  positionals: readonly string[];
}

export interface Parsed {
  str(name: string): string | undefined;
  list(name: string): string[];
  bool(name: string): boolean;
  /** Positionals by their spec name (required ones are guaranteed present). */
  pos(name: string): string | undefined;
  req(name: string): string;
}

export function parse(argv: readonly string[], spec: OptionSpec, help: string): Parsed | "help" {
  const strings = new Set(spec.strings ?? []);
  const lists = new Set(spec.lists ?? []);
  const booleans = new Set([...(spec.booleans ?? []), "help"]);
  const values = new Map<string, string[]>();
  const flags = new Set<string>();
  const positionals: string[] = [];
  const fail = (message: string): never => {
    throw new UsageError(message, help);
  };
  // Help wins over everything else on the line: `kakunin verify --frob -h` shows help, not an error.
  const beforeDashDash = argv.includes("--") ? argv.slice(0, argv.indexOf("--")) : argv;
  if (beforeDashDash.includes("-h") || beforeDashDash.includes("--help")) return "help";
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      positionals.push(a);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      name = eq === -1 ? a.slice(2) : a.slice(2, eq);
      inline = eq === -1 ? undefined : a.slice(eq + 1);
    } else {
      const alias = a === "-h" ? "help" : a.length === 2 ? spec.short?.[a.slice(1)] : undefined;
      if (alias === undefined) return fail(`unknown option ${a}`);
      name = alias;
    }
    if (booleans.has(name)) {
      if (inline !== undefined) fail(`--${name} takes no value`);
      flags.add(name);
      continue;
    }
    if (!strings.has(name) && !lists.has(name)) return fail(`unknown option --${name}`);
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) return fail(`--${name} needs a value`);
      value = next;
      i++;
    }
    values.set(name, lists.has(name) ? [...(values.get(name) ?? []), value] : [value]);
  }
  const names = spec.positionals.map((p) => p.replace(/\?$/, ""));
  const required = spec.positionals.filter((p) => !p.endsWith("?")).length;
  if (positionals.length < required) fail(`missing <${names[positionals.length]}>`);
  if (positionals.length > names.length) fail(`unexpected argument ${positionals[names.length]}`);
  const byName = new Map(names.map((n, i) => [n, positionals[i]]));
  return {
    str: (n) => values.get(n)?.at(-1),
    list: (n) => values.get(n) ?? [],
    bool: (n) => flags.has(n),
    pos: (n) => byName.get(n),
    req: (n) => byName.get(n) ?? values.get(n)?.at(-1) ?? fail(`missing --${n}`),
  };
}
