/** `kakunin webhooks list|add|deliveries|remove`: /v1/tenant/webhooks. */
import type { Parsed } from "../args.ts";
import type { Command } from "../command.ts";
import { originEndpoint, resolveSettings } from "../config.ts";
import { helpText, JSON_HELP, ORIGIN_HELP } from "../help-text.ts";
import { call, reportFailure } from "../http.ts";
import { EXIT, type Io } from "../io.ts";
import { json, kv, table } from "../render.ts";
import { fetchPages, PAGE_HELP } from "../pages.ts";

interface Hook {
  id: string;
  url: string;
  event_types: string[];
  key_id: string;
  created_at: string;
  secret?: string;
}
interface Delivery {
  id: string;
  event_type: string;
  status: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
}

/** One endpoint: the JSON with --json, else the given fields. */
function showHook(io: Io, a: Parsed, h: Hook, fields: Parameters<typeof kv>[0]): number {
  io.out(a.bool("json") ? json(h) : kv(fields));
  return EXIT.ok;
}

const listHelp = helpText("webhooks list [--json]", "\nLists the tenant's webhook endpoints (GET /v1/tenant/webhooks).", [ORIGIN_HELP, JSON_HELP]);
export const webhooksList: Command = {
  name: "webhooks list",
  synopsis: "webhooks list [--json]",
  summary: "list webhook endpoints",
  help: listHelp,
  spec: { strings: ["origin", "api-key"], booleans: ["json"], positionals: [] },
  async run(a: Parsed, io: Io): Promise<number> {
    const r = await call<{ data: Hook[] }>("GET", originEndpoint(resolveSettings(a, listHelp)), "/v1/tenant/webhooks");
    if (!r.ok) return reportFailure(io, r.error);
    const hooks = r.value.body.data;
    io.out(
      a.bool("json")
        ? json(hooks)
        : table(
            ["id", "url", "events", "key id"],
            hooks.map((h) => [h.id, h.url, h.event_types.join(",") || "all", h.key_id]),
          ),
    );
    return EXIT.ok;
  },
};

const addHelp = helpText(
  "webhooks add <url> [--events T1,T2] [--json]",
  `
Registers an endpoint (POST /v1/tenant/webhooks) and prints its signing secret, shown once.
Loopback and private addresses are refused unless the origin runs with KAKUNIN_WEBHOOK_ALLOW_PRIVATE=1.`,
  ["  --events T1,T2   CloudEvents types to send (default all), e.g. io.kakunin.agent.review_required", ORIGIN_HELP, JSON_HELP],
);
export const webhooksAdd: Command = {
  name: "webhooks add",
  synopsis: "webhooks add <url> [--events T1,T2] [--json]",
  summary: "register a webhook endpoint",
  help: addHelp,
  spec: { strings: ["events", "origin", "api-key"], booleans: ["json"], positionals: ["url"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const events = a.str("events");
    const body = {
      url: a.req("url"),
      ...(events
        ? {
            event_types: events
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean),
          }
        : {}),
    };
    const r = await call<{ data: Hook }>("POST", originEndpoint(resolveSettings(a, addHelp)), "/v1/tenant/webhooks", { body });
    if (!r.ok) return reportFailure(io, r.error);
    const h = r.value.body.data;
    return showHook(io, a, h, [
      ["webhook", h.id],
      ["url", h.url],
      ["key id", h.key_id],
      ["secret", h.secret ?? ""],
    ]);
  },
};

const delHelp = helpText(
  "webhooks deliveries <webhook-id> [--status pending|delivered|dead] [--limit N] [--cursor C | --all] [--json]",
  `
The endpoint's delivery log (GET /v1/tenant/webhooks/:id/deliveries), newest first: each event, its
status and attempts. Without --all one page is shown, with the cursor of the next when there is more.`,
  [...PAGE_HELP("deliveries"), ORIGIN_HELP, JSON_HELP],
);
export const webhooksDeliveries: Command = {
  name: "webhooks deliveries",
  synopsis: "webhooks deliveries <webhook-id> [--status S] [--limit N] [--cursor C | --all] [--json]",
  summary: "show a webhook's delivery log",
  help: delHelp,
  spec: { strings: ["status", "limit", "cursor", "origin", "api-key"], booleans: ["all", "json"], positionals: ["webhook-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const r = await fetchPages<Delivery>(
      a,
      delHelp,
      () => originEndpoint(resolveSettings(a, delHelp)),
      `/v1/tenant/webhooks/${encodeURIComponent(a.req("webhook-id"))}/deliveries`,
      { status: a.str("status") },
    );
    if (!r.ok) return reportFailure(io, r.error);
    const { rows: ds, next } = r.value;
    // --json stays the array it always was; the next page's cursor goes to stderr.
    io.out(
      a.bool("json")
        ? json(ds)
        : table(
            ["id", "type", "status", "attempts", "last", "created"],
            ds.map((d) => [d.id, d.event_type, d.status, d.attempts, d.last_error ?? d.last_status ?? "", d.created_at]),
          ),
    );
    if (next) io.err(`more: kakunin webhooks deliveries ${a.req("webhook-id")} --cursor ${next}`);
    return EXIT.ok;
  },
};

const removeHelp = helpText(
  "webhooks remove <webhook-id> [--json]",
  `
Removes an endpoint (DELETE /v1/tenant/webhooks/:id, admin): nothing more is sent to it, its pending
deliveries end dead, its delivery log stays. Audited.`,
  [ORIGIN_HELP, JSON_HELP],
);
export const webhooksRemove: Command = {
  name: "webhooks remove",
  synopsis: "webhooks remove <webhook-id> [--json]",
  summary: "remove a webhook endpoint",
  help: removeHelp,
  spec: { strings: ["origin", "api-key"], booleans: ["json"], positionals: ["webhook-id"] },
  async run(a: Parsed, io: Io): Promise<number> {
    const r = await call<{ data: Hook }>(
      "DELETE",
      originEndpoint(resolveSettings(a, removeHelp)),
      `/v1/tenant/webhooks/${encodeURIComponent(a.req("webhook-id"))}`,
    );
    if (!r.ok) return reportFailure(io, r.error);
    const h = r.value.body.data;
    return showHook(io, a, h, [
      ["removed", h.id],
      ["url", h.url],
    ]);
  },
};
