/** `kakunin agents retire <id>`: POST /v1/agents/:id/retire. */
import type { Parsed } from "../args.ts";
import { renderAgent, type Agent } from "../agent-view.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, type Io } from "../io.ts";
import { json } from "../render.ts";

const synopsis = "agents retire <agent-id> [--json]";

const help = helpText(synopsis, `
Retires an agent for good (POST /v1/agents/:id/retire): its active certificate is revoked
(cessationOfOperation) and it can never be certified again. Retiring it twice is refused (exit 3).`, [ORIGIN_HELP, JSON_HELP]);

export const agentsRetire: Command = {
  name: "agents retire",
  synopsis,
  summary: "retire an agent (revokes its certificate)",
  help,
  spec: { strings: ["origin", "api-key"], booleans: ["json"], positionals: ["agent-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const id = a.req("agent-id");
    const r = await call<{ data: Agent }>("POST", originEndpoint(resolveSettings(a, help)), `/v1/agents/${encodeURIComponent(id)}/retire`);
    if (!r.ok) return reportFailure(io, r.error);
    io.out(a.bool("json") ? json(r.value.body.data) : renderAgent(r.value.body.data));
    return EXIT.ok;
  },
};
