/** `kakunin agents list`: GET /v1/agents, one page or (--all) every page. */
import type { Parsed } from "../args.ts";
import { renderAgentTable, type Agent } from "../agent-view.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { reportFailure } from "../http.ts";
import { fetchPages, PAGE_HELP } from "../pages.ts";
import { EXIT, UsageError, type Io } from "../io.ts";
import { json, table } from "../render.ts";
import { parseDurationSeconds } from "../duration.ts";

type Listed = Agent & { certificate?: { serial_number: string; expires_at: string } };

function renderExpiringTable(agents: readonly Listed[]): string {
  if (agents.length === 0) return "no agent has a certificate expiring in that window\n";
  return table(["ID", "NAME", "SERIAL", "EXPIRES"], agents.map((x) => [x.id, x.name, x.certificate?.serial_number ?? "", x.certificate?.expires_at ?? ""]));
}

const synopsis = "agents list [--limit N] [--cursor C | --all] [--status S] [--expiring 30d] [--json]";

const help = helpText(synopsis, `
Lists the tenant's agents, oldest first (GET /v1/agents): id, name, status, model, created.
Without --all one page is shown, with the cursor of the next page when there is one.`, [
  ...PAGE_HELP("agents"),
  "  --status S       only active, suspended or retired agents",
  "  --expiring D     only agents whose active certificate expires within D (30d, 12h, ...): renew them",
  ORIGIN_HELP, JSON_HELP,
]);

export const agentsList: Command = {
  name: "agents list",
  synopsis,
  summary: "list agents (table, or --json)",
  help,
  spec: { strings: ["limit", "cursor", "status", "expiring", "origin", "api-key"], booleans: ["all", "json"], positionals: [] },
  async run(a: Parsed, io: Io): Promise<number> {
    const expiring = a.str("expiring");
    if (expiring !== undefined && parseDurationSeconds(expiring) === undefined) throw new UsageError(`--expiring: "${expiring}" is not a duration like 30d, 12h or 90m`, help);
    const r = await fetchPages<Listed>(a, help, () => originEndpoint(resolveSettings(a, help)), "/v1/agents", { status: a.str("status"), expiring_within: expiring?.trim() });
    if (!r.ok) return reportFailure(io, r.error);
    const { rows: agents, next } = r.value;
    if (a.bool("json")) io.out(json({ data: agents, next_cursor: next }));
    else if (expiring !== undefined) io.out(renderExpiringTable(agents) + (next ? `\nmore: kakunin agents list --expiring ${expiring} --cursor ${next}\n` : ""));
    else io.out(renderAgentTable(agents) + (next ? `\nmore: kakunin agents list --cursor ${next}\n` : ""));
    return EXIT.ok;
  },
};
