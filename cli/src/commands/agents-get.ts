/** `kakunin agents get <id>`: GET /v1/agents/:id. */
import type { Parsed } from "../args.ts";
import { renderAgent, type Agent } from "../agent-view.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, type Io } from "../io.ts";
import { json } from "../render.ts";

const synopsis = "agents get <agent-id> [--json]";

const help = helpText(synopsis, "Shows one agent (GET /v1/agents/:id). An agent outside your tenant is not found (exit 3).", [ORIGIN_HELP, JSON_HELP]);

export const agentsGet: Command = {
  name: "agents get",
  synopsis,
  summary: "show one agent",
  help,
  spec: { strings: ["origin", "api-key"], booleans: ["json"], positionals: ["agent-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const id = a.req("agent-id");
    const r = await call<{ data: Agent }>("GET", originEndpoint(resolveSettings(a, help)), `/v1/agents/${encodeURIComponent(id)}`);
    if (!r.ok) return reportFailure(io, r.error);
    io.out(a.bool("json") ? json(r.value.body.data) : renderAgent(r.value.body.data));
    return EXIT.ok;
  },
};
