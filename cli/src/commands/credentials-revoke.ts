/** `kakunin credentials revoke <agent-id> <credential-id>`: POST /v1/agents/:id/credentials/:cid/revoke. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, type Io } from "../io.ts";
import { json, kv } from "../render.ts";

const synopsis = "credentials revoke <agent-id> <credential-id> [--json]";

const help = helpText(synopsis, `
Revokes an agent credential; it stops working at once (401). Revoking twice is refused (409, exit 3).`, [ORIGIN_HELP, JSON_HELP]);

interface Revoked { id: string; name: string; revoked_at: string }

export const credentialsRevoke: Command = {
  name: "credentials revoke",
  synopsis,
  summary: "revoke an agent credential",
  help,
  spec: { strings: ["origin", "api-key"], booleans: ["json"], positionals: ["agent-id", "credential-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const path = `/v1/agents/${encodeURIComponent(a.req("agent-id"))}/credentials/${encodeURIComponent(a.req("credential-id"))}/revoke`;
    const r = await call<{ data: Revoked }>("POST", originEndpoint(resolveSettings(a, help)), path);
    if (!r.ok) return reportFailure(io, r.error);
    const c = r.value.body.data;
    io.out(a.bool("json") ? json(c) : kv([["credential", c.id], ["name", c.name], ["revoked", c.revoked_at]]));
    return EXIT.ok;
  },
};
