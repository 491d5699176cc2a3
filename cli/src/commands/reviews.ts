/** `kakunin reviews`: GET /v1/reviews. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, type Io } from "../io.ts";
import { json, table } from "../render.ts";

const synopsis = "reviews [--json]";

const help = helpText(
  synopsis,
  `
Lists the review queue (GET /v1/reviews): agents the risk policy flagged for review (auto_revoke
off) or auto-revoked, awaiting a decision, with their top reasons and the events that drove them.
Decide with \`kakunin review <agent> --clear|--revoke|--reinstate --reason R\`.`,
  [ORIGIN_HELP, JSON_HELP],
);

interface Item {
  agent_id: string;
  name: string;
  kind: string;
  score: number;
  opened_at: string;
  top_reasons: { feature: string }[];
  event_ids: string[];
}

export const reviews: Command = {
  name: "reviews",
  synopsis,
  summary: "list agents awaiting a review decision",
  help,
  spec: { strings: ["origin", "api-key"], booleans: ["json"], positionals: [] },
  async run(a: Parsed, io: Io): Promise<number> {
    const r = await call<{ data: Item[] }>("GET", originEndpoint(resolveSettings(a, help)), "/v1/reviews");
    if (!r.ok) return reportFailure(io, r.error);
    const items = r.value.body.data;
    io.out(
      a.bool("json")
        ? json(items)
        : table(
            ["agent", "name", "kind", "score", "since", "reasons", "events"],
            items.map((i) => [i.agent_id, i.name, i.kind, i.score, i.opened_at, i.top_reasons.map((x) => x.feature).join(","), i.event_ids.length]),
          ),
    );
    return EXIT.ok;
  },
};
