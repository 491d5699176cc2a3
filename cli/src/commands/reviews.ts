/** `kakunin reviews`: GET /v1/reviews. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { reportFailure } from "../http.ts";
import { fetchPages, PAGE_HELP } from "../pages.ts";
import { EXIT, type Io } from "../io.ts";
import { json, table } from "../render.ts";

const synopsis = "reviews [--limit N] [--cursor C | --all] [--json]";

const help = helpText(
  synopsis,
  `
Lists the review queue (GET /v1/reviews): agents the risk policy flagged for review (auto_revoke
off) or auto-revoked, awaiting a decision, with their top reasons and the events that drove them.
Decide with \`kakunin review <agent> --clear|--revoke|--reinstate --reason R\`. Without --all one
page is shown, with the cursor of the next page when more agents wait.`,
  [...PAGE_HELP("agents"), ORIGIN_HELP, JSON_HELP],
);

interface Item {
  agent_id: string;
  name: string;
  kind: string;
  score: number;
  opened_at: string;
  alerts: number;
  top_reasons: { feature: string }[];
  event_ids: string[];
}

export const reviews: Command = {
  name: "reviews",
  synopsis,
  summary: "list agents awaiting a review decision",
  help,
  spec: { strings: ["limit", "cursor", "origin", "api-key"], booleans: ["all", "json"], positionals: [] },
  async run(a: Parsed, io: Io): Promise<number> {
    const r = await fetchPages<Item>(a, help, () => originEndpoint(resolveSettings(a, help)), "/v1/reviews");
    if (!r.ok) return reportFailure(io, r.error);
    const { rows: items, next } = r.value;
    // --json stays the array it always was; the next page's cursor goes to stderr, like the table's hint.
    if (a.bool("json")) io.out(json(items));
    else if (items.length === 0) io.out("nobody is waiting for review\n");
    else {
      io.out(
        table(
          ["agent", "name", "kind", "score", "since", "alerts", "reasons", "events"],
          items.map((i) => [i.agent_id, i.name, i.kind, i.score, i.opened_at, i.alerts, i.top_reasons.map((x) => x.feature).join(","), i.event_ids.length]),
        ),
      );
    }
    if (next) io.err(`more: kakunin reviews --cursor ${next}`);
    return EXIT.ok;
  },
};
