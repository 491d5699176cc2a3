/** `kakunin --help` and the help of a command group, built from the commands themselves. */
import type { Command } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
import { configPath, DEFAULT_EDGE, DEFAULT_ORIGIN } from "./config.ts";

const listing = (cmds: readonly Command[]) => cmds.map((c) => `  ${c.synopsis}\n      ${c.summary}`).join("\n");

export const USAGE = `Usage: kakunin <command> [options]

Identity, verification and audit for AI agents: the command line for a Kakunin origin and edge.

Commands:
${listing(COMMANDS)}

Every command and group takes -h/--help. Most take --json: one JSON document on stdout, nothing
else there; progress and errors go to stderr.

Configuration, highest first: flags (--origin URL, --edge URL, --api-key KEY), environment
(KAKUNIN_ORIGIN_URL, KAKUNIN_EDGE_URL, KAKUNIN_API_KEY), the config file \`kakunin init\` writes
($KAKUNIN_CONFIG, else $XDG_CONFIG_HOME/kakunin/config.json, else ~/.config/kakunin/config.json;
here: ${configPath()}), defaults ${DEFAULT_ORIGIN} (origin) and ${DEFAULT_EDGE} (edge).
Ingest token for events and risk: --token, KAKUNIN_INGEST_TOKEN, or --agent ID to mint one.

Exit codes:
  0  ok
  1  a negative answer: verify says not valid, audit verify failed, events send had a batch refused
  2  usage error, or a local file / configuration problem
  3  the API refused the request (4xx; its title, detail and field errors are printed on stderr)
  4  the API is unreachable, timed out or failed (5xx)
  70 an internal error of the CLI (a bug; please report it)
`;

export function groupHelp(group: string): string {
  const cmds = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  const bare = cmds.some((c) => c.name === `${group} list`) ? `\n\`kakunin ${group}\` alone is \`kakunin ${group} list\`.` : "";
  return `Usage: kakunin ${group} <command> [options]\n\nCommands:\n${listing(cmds)}\n\nRun \`kakunin ${group} <command> --help\` for a command's options.${bare}\n`;
}
