/** `kakunin agents list`: GET /v1/agents, one page or (--all) every page. */
import type { Parsed } from "../args.ts";
import { renderAgentTable, type Agent } from "../agent-view.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, UsageError, type Io } from "../io.ts";
import { json } from "../render.ts";

const synopsis = "agents list [--limit N] [--cursor C | --all] [--status S] [--json]";

const help = helpText(synopsis, `
Lists the tenant's agents, oldest first (GET /v1/agents): id, name, status, model, created.
Without --all one page is shown, with the cursor of the next page when there is one.`, [
  "  --limit N        agents per page, 1-200 (default 50)",
  "  --cursor C       continue from a previous page's next cursor",
  "  --all            follow every page",
  "  --status S       only active, suspended or retired agents",
  ORIGIN_HELP, JSON_HELP,
]);

interface Page { data: Agent[]; next_cursor: string | null }

export const agentsList: Command = {
  name: "agents list",
  synopsis,
  summary: "list agents (table, or --json)",
  help,
  spec: { strings: ["limit", "cursor", "status", "origin", "api-key"], booleans: ["all", "json"], positionals: [] },
  async run(a: Parsed, io: Io): Promise<number> {
    if (a.bool("all") && a.str("cursor") !== undefined) throw new UsageError("--all starts at the first page; drop --cursor", help);
    const ep = originEndpoint(resolveSettings(a, help));
    const agents: Agent[] = [];
    let cursor = a.str("cursor");
    let next: string | null = null;
    do {
      const r = await call<Page>("GET", ep, "/v1/agents", { query: { limit: a.str("limit"), cursor, status: a.str("status") } });
      if (!r.ok) return reportFailure(io, r.error);
      agents.push(...r.value.body.data);
      next = r.value.body.next_cursor;
      cursor = next ?? undefined;
    } while (a.bool("all") && next !== null);
    if (a.bool("json")) io.out(json({ data: agents, next_cursor: next }));
    else io.out(renderAgentTable(agents) + (next ? `\nmore: kakunin agents list --cursor ${next}\n` : ""));
    return EXIT.ok;
  },
};
