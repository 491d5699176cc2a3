/** `kakunin credentials list <agent-id>`: GET /v1/agents/:id/credentials. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, type Io } from "../io.ts";
import { json, table } from "../render.ts";

const synopsis = "credentials list <agent-id> [--json]";

const help = helpText(synopsis, `
Lists an agent's credentials, revoked ones included: id, name, prefix, created, revoked. The
credentials themselves are never shown again.`, [ORIGIN_HELP, JSON_HELP]);

interface Listed { id: string; name: string; prefix: string; created_at: string; revoked_at: string | null }

export const credentialsList: Command = {
  name: "credentials list",
  synopsis,
  summary: "list an agent's credentials (never the keys)",
  help,
  spec: { strings: ["origin", "api-key"], booleans: ["json"], positionals: ["agent-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const id = a.req("agent-id");
    const ep = originEndpoint(resolveSettings(a, help));
    // The API pages this list; the command lists every credential, as it always has (--json stays one array).
    const rows: Listed[] = [];
    let cursor: string | undefined;
    do {
      const r = await call<{ data: Listed[]; next_cursor: string | null }>("GET", ep, `/v1/agents/${encodeURIComponent(id)}/credentials`, { query: { limit: "200", cursor } });
      if (!r.ok) return reportFailure(io, r.error);
      rows.push(...r.value.body.data);
      cursor = r.value.body.next_cursor ?? undefined;
    } while (cursor !== undefined);
    io.out(a.bool("json") ? json(rows) : table(["ID", "NAME", "PREFIX", "CREATED", "REVOKED"], rows.map((c) => [c.id, c.name, c.prefix, c.created_at, c.revoked_at ?? "-"])));
    return EXIT.ok;
  },
};
