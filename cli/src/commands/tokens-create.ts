/** `kakunin tokens create <agent-id>`: mints an ingest token for the agent. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, CREDENTIAL_HELP, ORIGIN_HELP } from "../help-text.ts";
import { reportFailure } from "../http.ts";
import { mintIngestToken, parseDuration } from "../ingest-token.ts";
import { EXIT, UsageError, type Io } from "../io.ts";
import { json, kv } from "../render.ts";

const synopsis = "tokens create <agent-id> [--ttl 1h] [--quiet | --json]";

const help = helpText(synopsis, `
Mints an ingest token (POST /v1/agents/:id/ingest-tokens): the bearer token an agent uses to post
behaviour events to the edge. It is bound to the agent's current certificate (revoking it voids the
token) and never outlives it. The agent needs an active certificate (otherwise 409, exit 3).
  T=$(kakunin tokens create "$AGENT" --quiet)`, [
  "  --ttl D          lifetime: 90s, 15m, 1h, 1h30m or seconds; 1 minute to 24 hours (default 1h)",
  "  -q, --quiet      print only the token",
  ORIGIN_HELP, CREDENTIAL_HELP, JSON_HELP,
]);

export const tokensCreate: Command = {
  name: "tokens create",
  synopsis,
  summary: "mint an agent's ingest token for the edge",
  help,
  spec: { strings: ["ttl", "origin", "api-key", "credential"], booleans: ["quiet", "json"], short: { q: "quiet" }, positionals: ["agent-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const id = a.req("agent-id");
    const ttlText = a.str("ttl");
    const ttl = ttlText === undefined ? undefined : parseDuration(ttlText);
    if (ttlText !== undefined && ttl === undefined) throw new UsageError(`--ttl ${ttlText} is not a duration (e.g. 90s, 15m, 1h)`, help);
    if (a.bool("quiet") && a.bool("json")) throw new UsageError("give --quiet or --json, not both", help);
    const r = await mintIngestToken(resolveSettings(a, help), id, ttl);
    if (!r.ok) return reportFailure(io, r.error);
    const t = r.value;
    if (a.bool("quiet")) io.out(`${t.token}\n`);
    else if (a.bool("json")) io.out(json(t));
    else io.out(kv([["token", t.token], ["expires_at", t.expires_at], ["agent", t.agent_id], ["serial", t.serial_number]]));
    return EXIT.ok;
  },
};
