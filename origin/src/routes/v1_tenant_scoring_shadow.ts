import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, gte, isNotNull, or, sql } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { agentEvents, tenants } from "../db/schema.ts";
import { bearer, dataResponse, errorResponses } from "./openapi.ts";

const band = z.enum(["low", "medium", "high"]);

export const shadowReport = z.object({
  /** Null when no candidate is set. */
  candidate: z
    .object({
      thresholds: z.object({ medium: z.number(), high: z.number() }).optional(),
      weights: z.record(z.string(), z.number()).optional(),
      since: z.string(),
    })
    .nullable(),
  /** Events whose band the candidate would have changed, by transition. */
  rebanded: z.array(z.object({ from: band, to: band, events: z.number().int() })),
  events_rebanded: z.number().int(),
  /** Agents the candidate would have moved into high (where the active configuration did not): the AGENTS_LISTED with the most such events. */
  would_go_high: z.array(z.object({ agent_id: z.uuid(), events: z.number().int(), first_at: z.string(), last_at: z.string() })),
  /** How many agents that is in all (more than listed when the candidate would move more than AGENTS_LISTED). */
  would_go_high_agents: z.number().int(),
  /** Agents the active configuration has in high that the candidate would not (the AGENTS_LISTED with the most events). */
  would_not_go_high: z.array(z.object({ agent_id: z.uuid(), events: z.number().int() })),
  would_not_go_high_agents: z.number().int(),
});

/** How far behind the origin's an edge's clock may put a verdict of the current candidate. */
const SKEW_MS = 5 * 60_000;

/** Agents listed per direction; the totals beside the lists count them all. */
export const AGENTS_LISTED = 500;

export const route = createRoute({
  method: "get",
  path: "/v1/tenant/scoring/shadow",
  summary: "What the shadow candidate would have changed since it was set: events re-banded, agents that would have gone high",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  responses: { 200: dataResponse(shadowReport, "The shadow report"), ...errorResponses() },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const db = c.var.services.db;
    const tenantId = c.var.caller.tenantId;
    const [t] = await db.select({ scoring: tenants.scoring }).from(tenants).where(eq(tenants.id, tenantId));
    const shadow = t!.scoring.shadow;
    if (!shadow) {
      return c.json(
        {
          data: {
            candidate: null,
            rebanded: [],
            events_rebanded: 0,
            would_go_high: [],
            would_go_high_agents: 0,
            would_not_go_high: [],
            would_not_go_high_agents: 0,
          },
        },
        200,
      );
    }
    // Monitors forward a shadow verdict only when it differs from the active one. A verdict names
    // the candidate that gave it: a monitor that has not yet read this candidate from KV still
    // forwards the previous one's after `since`, and those are not this candidate's. A named verdict
    // counts whatever the edge's clock said (within SKEW_MS of `since`, which keeps the read on the
    // index); one from an edge that names none (older than `shadow.since`) is counted by time alone.
    const sinceMs = Date.parse(shadow.since);
    const tag = sql`${agentEvents.shadow}->>'since'`;
    const ours = or(sql`${tag} = ${shadow.since}`, and(sql`${tag} is null`, gte(agentEvents.receivedAt, new Date(sinceMs))));
    const where = and(eq(agentEvents.tenantId, tenantId), isNotNull(agentEvents.shadow), gte(agentEvents.receivedAt, new Date(sinceMs - SKEW_MS)), ours);
    const to = sql<string>`${agentEvents.shadow}->>'band'`;
    const rows = await db
      .select({ from: agentEvents.band, to, n: sql<number>`count(*)::int` })
      .from(agentEvents)
      .where(and(where, sql`${agentEvents.band} <> ${to}`))
      .groupBy(agentEvents.band, to);
    const riskTo = sql<string>`${agentEvents.shadow}->>'risk_band'`;
    const riskFrom = sql<string>`${agentEvents.shadow}->>'active_risk_band'`;
    const toHigh = sql`${riskTo} = 'high' and ${riskFrom} <> 'high'`;
    const fromHigh = sql`${riskFrom} = 'high' and ${riskTo} <> 'high'`;
    const high = await db
      .select({
        agent: agentEvents.agentId,
        n: sql<number>`count(*)::int`,
        first: sql<string>`min(${agentEvents.occurredAt})`,
        last: sql<string>`max(${agentEvents.occurredAt})`,
      })
      .from(agentEvents)
      .where(and(where, toHigh))
      .groupBy(agentEvents.agentId)
      .orderBy(desc(sql`count(*)`), agentEvents.agentId)
      .limit(AGENTS_LISTED);
    const notHigh = await db
      .select({ agent: agentEvents.agentId, n: sql<number>`count(*)::int` })
      .from(agentEvents)
      .where(and(where, fromHigh))
      .groupBy(agentEvents.agentId)
      .orderBy(desc(sql`count(*)`), agentEvents.agentId)
      .limit(AGENTS_LISTED);
    // The lists are cut at AGENTS_LISTED; a tuner must still see how many agents a candidate moves.
    const [totals] = await db
      .select({
        up: sql<number>`count(distinct ${agentEvents.agentId}) filter (where ${toHigh})`.mapWith(Number),
        down: sql<number>`count(distinct ${agentEvents.agentId}) filter (where ${fromHigh})`.mapWith(Number),
      })
      .from(agentEvents)
      .where(where);
    const rebanded = rows.map((r) => ({ from: r.from, to: r.to as z.infer<typeof band>, events: Number(r.n) }));
    return c.json(
      {
        data: {
          candidate: { ...shadow, weights: Object.fromEntries(Object.entries(shadow.weights ?? {}).filter((e): e is [string, number] => e[1] !== undefined)) },
          rebanded,
          events_rebanded: rebanded.reduce((a, r) => a + r.events, 0),
          would_go_high: high.map((h) => ({ agent_id: h.agent, events: Number(h.n), first_at: iso(h.first), last_at: iso(h.last) })),
          would_go_high_agents: totals?.up ?? 0,
          would_not_go_high: notHigh.map((h) => ({ agent_id: h.agent, events: Number(h.n) })),
          would_not_go_high_agents: totals?.down ?? 0,
        },
      },
      200,
    );
  });
}

/** min()/max() of a timestamptz come back as driver strings (PGlite and node-postgres differ). */
function iso(v: string | Date): string {
  return new Date(v).toISOString();
}
