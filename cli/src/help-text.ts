/** Pieces every command's `--help` shares, so flags and exit codes read the same everywhere. */
import { DEFAULT_EDGE, DEFAULT_ORIGIN } from "./config.ts";

export const ORIGIN_HELP = `  --origin URL     origin API (env KAKUNIN_ORIGIN_URL, config file, default ${DEFAULT_ORIGIN})
  --api-key KEY    API key (env KAKUNIN_API_KEY, config file written by \`kakunin init\`)`;

export const CREDENTIAL_HELP = `  --credential K   the agent's credential (kka_…, env KAKUNIN_AGENT_CREDENTIAL); used instead of
                   the API key: what an agent runtime should hold`;

export const EDGE_HELP = `  --edge URL       edge (env KAKUNIN_EDGE_URL, config file, default ${DEFAULT_EDGE})`;

export const JSON_HELP = `  --json           print one JSON document on stdout (errors still go to stderr)`;

export const HELP_HELP = `  -h, --help       show this help`;

export const EXIT_HELP = `Exit codes: 0 ok, 1 negative answer, 2 usage or local I/O error,
            3 the API refused (4xx: its title, detail and field errors on stderr),
            4 unreachable, timeout or 5xx.`;

/** Option lines (`  --flag ARG   text`, continuation lines indented) with the texts in one column. */
function alignOptions(lines: readonly string[]): string {
  const rows = lines.join("\n").split("\n").map((l) => {
    const m = /^ {2}(-\S*(?: [^ ]+)?)(?: {2,}(.*))?$/.exec(l);
    return m ? { flag: m[1]!, text: m[2] ?? "" } : { flag: "", text: l.trim() };
  });
  const width = Math.max(...rows.map((r) => r.flag.length));
  return rows.map((r) => `  ${r.flag.padEnd(width)}  ${r.text}`.trimEnd()).join("\n");
}

/** `Usage: kakunin <synopsis>`, a description, then option lines. */
export function helpText(synopsis: string, description: string, options: readonly string[], exits = EXIT_HELP): string {
  return `Usage: kakunin ${synopsis}\n\n${description.trim()}\n\nOptions:\n${alignOptions([...options, HELP_HELP])}\n\n${exits}\n`;
}
