import { createRoute, z } from "@hono/zod-openapi";
import { verifyInternal } from "@kakunin/shared";
import { dataResponse, problemResponses, serve, SIGNED_INTERNAL, type EdgeApp } from "../http/openapi.ts";
import { edgeProblem } from "../http/problems.ts";
import { fromStore } from "../http/store-unavailable.ts";
import { claimInternalNonce, coordinator } from "../ledger/client.ts";
import type { LedgerStats } from "../ledger/status-ledger.ts";
import { summarise, type ForwardingSummary } from "../monitor/health.ts";

export const PATH = "/v1/admin/metrics";

const num = z.number().int();
const metricsSchema = z
  .object({
    generated_at: z.iso.datetime(),
    environment: z.string(),
    ledger: z.object({
      epoch: z.number().int().nullable().openapi({ description: "Origin epoch the ledger holds (null before the first batch)" }),
      max_version: num.nullable().openapi({ description: "Highest status-record version received in that epoch; compare with the origin's" }),
      last_batch_at: z.iso.datetime().nullable(),
      seconds_since_last_batch: num
        .nullable()
        .openapi({ description: "A large value while the origin's outbox holds records means publishes are not reaching the edge" }),
      batches_applied: num,
      kv_unsynced: num.openapi({ description: "Records applied to the ledger whose KV copy (the read path) is still pending" }),
    }),
    forwarding: z.object({
      agents_behind: num.openapi({ description: "AgentMonitors currently behind: holding, quarantined records, dead letters, or events waiting > 60 s" }),
      agents_holding: num,
      events_pending: num.openapi({ description: "Events those monitors have not delivered to the origin yet (the forward backlog)" }),
      alerts_pending: num,
      quarantined: num,
      oldest_pending_age_seconds: num,
      truncated: z.boolean().openapi({ description: "More than 1000 monitors are behind: the sums are lower bounds" }),
    }),
    dead_letters: z.object({ held: num, unreported: num }),
  })
  .openapi("EdgeMetrics");

export type EdgeMetrics = z.infer<typeof metricsSchema>;

export const route = createRoute({
  method: "get",
  path: PATH,
  summary: "Operator summary of the edge: ledger apply lag, forward backlog, dead letters held",
  description: "Signed like the origin's internal calls (KAKUNIN_EDGE_SECRET). `Accept: text/plain` answers Prometheus text instead of JSON.",
  tags: ["admin"],
  security: SIGNED_INTERNAL,
  responses: {
    200: {
      ...dataResponse(metricsSchema, "Current numbers; never cached", { "cache-control": z.literal("no-store") }),
      content: { ...dataResponse(metricsSchema, "").content, "text/plain; version=0.0.4": { schema: z.string() } },
    },
    ...problemResponses({ 401: "Unsigned, badly signed, stale or replayed request", 500: "Misconfigured edge (no KAKUNIN_EDGE_SECRET)" }),
  },
});

export function register(app: EdgeApp): void {
  serve(app, route, async (c) => {
    const secret = c.env.KAKUNIN_EDGE_SECRET;
    if (!secret) return edgeProblem(c, "internal-error", "KAKUNIN_EDGE_SECRET is not configured at the edge.");
    const auth = await verifyInternal(secret, "GET", PATH, "", c.req.raw.headers);
    if (!auth.ok) return edgeProblem(c, "unauthorized", "GET /v1/admin/metrics needs a signed request (kakunin-signature).");
    if (!(await fromStore("status ledger", () => claimInternalNonce(c.env, auth))))
      return edgeProblem(c, "unauthorized", "Internal call refused: replayed nonce.");
    const now = Date.now();
    const [stats, forwarding] = await Promise.all([
      fromStore("status ledger", () => coordinator(c.env).stats()),
      fromStore("status store", () => summarise(c.env.CERT_STATUS, now)),
    ]);
    const m = build(c.env.KAKUNIN_ENV, now, stats, forwarding);
    if (/text\/plain/.test(c.req.header("accept") ?? "")) {
      return c.text(prometheus(m), 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8", "cache-control": "no-store" });
    }
    return c.json({ data: m }, 200, { "cache-control": "no-store" });
  });
}

function build(environment: string, now: number, l: LedgerStats, f: ForwardingSummary): EdgeMetrics {
  const { dead_letters_held, dead_letters_unreported, ...forwarding } = f;
  return {
    generated_at: new Date(now).toISOString(),
    environment,
    ledger: {
      epoch: l.head?.epoch.n ?? null,
      max_version: l.head?.max_v ?? null,
      last_batch_at: l.last_batch_at === null ? null : new Date(l.last_batch_at).toISOString(),
      seconds_since_last_batch: l.last_batch_at === null ? null : Math.max(0, Math.round((now - l.last_batch_at) / 1000)),
      batches_applied: l.batches_applied,
      kv_unsynced: l.kv_unsynced,
    },
    forwarding,
    dead_letters: { held: dead_letters_held, unreported: dead_letters_unreported },
  };
}

/** The same numbers as Prometheus gauges (for a scrape through a signing proxy or a Worker cron). */
function prometheus(m: EdgeMetrics): string {
  const g = (name: string, help: string, v: number | null) => (v === null ? "" : `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${v}\n`);
  return [
    g("kakunin_edge_ledger_max_version", "Highest status-record version the edge ledger received", m.ledger.max_version),
    g("kakunin_edge_ledger_seconds_since_last_batch", "Seconds since the ledger admitted a publish batch", m.ledger.seconds_since_last_batch),
    g("kakunin_edge_ledger_kv_unsynced", "Ledger records whose KV copy is pending", m.ledger.kv_unsynced),
    g("kakunin_edge_agents_behind", "AgentMonitors behind on forwarding", m.forwarding.agents_behind),
    g("kakunin_edge_agents_holding", "AgentMonitors holding (origin unavailable)", m.forwarding.agents_holding),
    g("kakunin_edge_forward_events_pending", "Events not yet delivered to the origin by monitors that are behind", m.forwarding.events_pending),
    g("kakunin_edge_forward_alerts_pending", "Risk alerts not yet delivered", m.forwarding.alerts_pending),
    g("kakunin_edge_forward_oldest_pending_age_seconds", "Age of the oldest undelivered event", m.forwarding.oldest_pending_age_seconds),
    g("kakunin_edge_dead_letters_held", "Dead letters held by AgentMonitors", m.dead_letters.held),
    g("kakunin_edge_dead_letters_unreported", "Dead letters not yet reported to the origin", m.dead_letters.unreported),
  ].join("");
}
