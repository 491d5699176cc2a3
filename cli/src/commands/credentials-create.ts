/** `kakunin credentials create <agent-id>`: POST /v1/agents/:id/credentials. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, UsageError, type Io } from "../io.ts";
import { json, kv } from "../render.ts";

const synopsis = "credentials create <agent-id> [--name N] [--quiet | --json]";

const help = helpText(synopsis, `
Mints an agent credential (kka_…): the key an agent runtime holds instead of an API key. It may
sign as this agent and mint this agent's ingest tokens, nothing else; it works across the agent's
certificates until revoked. Shown once; needs an admin or issuer key.
  export KAKUNIN_AGENT_CREDENTIAL=$(kakunin credentials create "$AGENT" --quiet)`, [
  "  --name N         a label for listings (default: agent runtime)",
  "  -q, --quiet      print only the credential",
  ORIGIN_HELP, JSON_HELP,
]);

interface Created { id: string; key: string; agent_id: string; name: string; prefix: string; created_at: string }

export const credentialsCreate: Command = {
  name: "credentials create",
  synopsis,
  summary: "mint an agent credential (sign as the agent, mint its ingest tokens)",
  help,
  spec: { strings: ["name", "origin", "api-key"], booleans: ["quiet", "json"], short: { q: "quiet" }, positionals: ["agent-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const id = a.req("agent-id");
    if (a.bool("quiet") && a.bool("json")) throw new UsageError("give --quiet or --json, not both", help);
    const body = { name: a.str("name") ?? "agent runtime" };
    const r = await call<{ data: Created }>("POST", originEndpoint(resolveSettings(a, help)), `/v1/agents/${encodeURIComponent(id)}/credentials`, { body });
    if (!r.ok) return reportFailure(io, r.error);
    const c = r.value.body.data;
    if (a.bool("quiet")) io.out(`${c.key}\n`);
    else if (a.bool("json")) io.out(json(c));
    else io.out(kv([["credential", c.key], ["id", c.id], ["agent", c.agent_id], ["name", c.name], ["created", c.created_at]]));
    return EXIT.ok;
  },
};
