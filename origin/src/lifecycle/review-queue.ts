import { and, asc, count, desc, eq, inArray, isNull, max, min, ne, sql } from "drizzle-orm";
import { rowsOfResult, type Db } from "../db/index.ts";
import { agents, riskDecisions } from "../db/schema.ts";

/** One agent waiting for a human decision. */
export interface OpenReview {
  agentId: string;
  name: string;
  status: "active" | "suspended" | "retired";
  /** review_required: flagged with auto_revoke off; auto_revoked: revoked by the policy, awaiting a decision. */
  kind: "review_required" | "auto_revoked";
  score: number;
  openedAt: Date;
  alerts: number;
  /** The latest alert's top reasons. */
  reasons: { feature: string; contribution: number; detail: string }[];
  /** Every event the open alerts name, newest alert first. */
  eventIds: string[];
}

/** Where a page of the queue starts: after this agent at this opening time (the queue's order). */
export interface QueueCursor {
  openedAt: Date;
  agentId: string;
}

/** One page of the queue, and where the next starts when there is more. */
export interface QueuePage {
  items: OpenReview[];
  next?: QueueCursor;
}

/** An open decision (joined with its agent): not closed by a review, the agent not retired. */
function openCondition(tenantId: string) {
  return and(
    eq(riskDecisions.tenantId, tenantId),
    isNull(riskDecisions.reviewId),
    inArray(riskDecisions.decision, ["revoked", "flagged"]),
    ne(agents.status, "retired"),
  );
}

/** Decisions read per listed agent for its event ids, and the ids shown (the view shows at most 1,000). */
const DECISIONS_READ = 1000;
const EVENT_IDS_SHOWN = 1000;

/**
 * The event ids the agent's open decisions name, newest alert first, each once, at most
 * EVENT_IDS_SHOWN. Unnested and cut in the database (a top-N sort, twice the ids shown, so the
 * rare id named by two open alerts still leaves enough): an alert names up to 1,000 events (a full
 * ingest batch), so an agent whose risk flaps with full batches would otherwise have the origin
 * read up to a million ids (~128 MB) per listed agent, for every page view of the queue.
 */
async function openEventIds(db: Db, tenantId: string, agentId: string): Promise<string[]> {
  const result = await db.execute(sql`
    select e.id from (
      select id, triggered_at, event_ids from risk_decisions
      where tenant_id = ${tenantId} and agent_id = ${agentId} and review_id is null and decision in ('revoked', 'flagged')
      order by triggered_at desc, id desc
      limit ${DECISIONS_READ}
    ) d
    cross join lateral jsonb_array_elements_text(d.event_ids) with ordinality as e(id, n)
    order by d.triggered_at desc, d.id desc, e.n
    limit ${2 * EVENT_IDS_SHOWN}`);
  return [...new Set(rowsOfResult<{ id: string }>(result).map((r) => r.id))].slice(0, EVENT_IDS_SHOWN);
}

/**
 * The open review queue (open = a `revoked` or `flagged` risk decision no review has closed), one
 * item per agent, oldest first. A retired agent is not in it: retirement (audited) closed the
 * question, and a retired agent takes no review decision. GET /v1/reviews and the console's
 * review page both read it here.
 *
 * Grouped by agent in the database, so the queue's order and counts cover every open decision:
 * an agent whose risk flaps (one more decision each time it goes high again) cannot push other
 * agents out of a window of recent decisions. Only the listed agents' newest decisions are read.
 */
export async function openReviews(db: Db, tenantId: string, limit: number, after?: QueueCursor): Promise<QueuePage> {
  const isOpen = openCondition(tenantId);
  const openedAt = min(riskDecisions.triggeredAt);
  const groups = await db
    .select({
      agentId: riskDecisions.agentId,
      alerts: count(),
      score: max(riskDecisions.score),
      openedAt,
      revoked: sql<number>`count(*) filter (where ${riskDecisions.decision} = 'revoked')`.mapWith(Number),
    })
    .from(riskDecisions)
    .innerJoin(agents, eq(riskDecisions.agentId, agents.id))
    .where(isOpen)
    .groupBy(riskDecisions.agentId)
    // Keyset on the queue's own order, so a page after a decision neither repeats nor skips anyone.
    .having(
      after
        ? sql`(min(${riskDecisions.triggeredAt}), ${riskDecisions.agentId}) > (${after.openedAt.toISOString()}::timestamptz, ${after.agentId}::uuid)`
        : undefined,
    )
    .orderBy(asc(openedAt), asc(riskDecisions.agentId))
    .limit(limit + 1);
  const last = groups.length > limit ? groups[limit - 1] : undefined;
  const items = await Promise.all(
    groups.slice(0, limit).map(async (g): Promise<OpenReview | undefined> => {
      const [latest] = await db
        .select({ d: riskDecisions, a: agents })
        .from(riskDecisions)
        .innerJoin(agents, eq(riskDecisions.agentId, agents.id))
        .where(and(isOpen, eq(riskDecisions.agentId, g.agentId)))
        .orderBy(desc(riskDecisions.triggeredAt), desc(riskDecisions.id))
        .limit(1);
      // Reviewed between the two reads: no longer open.
      if (!latest) return undefined;
      return {
        agentId: g.agentId,
        name: latest.a.name,
        status: latest.a.status,
        kind: g.revoked > 0 ? ("auto_revoked" as const) : ("review_required" as const),
        score: g.score ?? latest.d.score,
        openedAt: g.openedAt ?? latest.d.triggeredAt,
        alerts: g.alerts,
        reasons: latest.d.reasons.slice(0, 5),
        eventIds: await openEventIds(db, tenantId, g.agentId),
      };
    }),
  );
  return {
    items: items.filter((i): i is OpenReview => i !== undefined),
    next: last?.openedAt ? { openedAt: last.openedAt, agentId: last.agentId } : undefined,
  };
}

/** How many agents await a decision (the queue's length, whatever page is shown). */
export async function countOpenReviews(db: Db, tenantId: string): Promise<number> {
  const [row] = await db
    .select({ n: sql<number>`count(distinct ${riskDecisions.agentId})`.mapWith(Number) })
    .from(riskDecisions)
    .innerJoin(agents, eq(riskDecisions.agentId, agents.id))
    .where(openCondition(tenantId));
  return row?.n ?? 0;
}
