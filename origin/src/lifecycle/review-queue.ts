import { and, asc, count, desc, eq, inArray, isNull, max, min, ne, sql } from "drizzle-orm";
import type { Db } from "../db/index.ts";
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

/** Decisions read per listed agent for its latest reasons and event ids (the view shows at most 1,000 ids). */
const DECISIONS_READ = 1000;

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
export async function openReviews(db: Db, tenantId: string, limit: number): Promise<OpenReview[]> {
  const isOpen = and(
    eq(riskDecisions.tenantId, tenantId),
    isNull(riskDecisions.reviewId),
    inArray(riskDecisions.decision, ["revoked", "flagged"]),
    ne(agents.status, "retired"),
  );
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
    .orderBy(asc(openedAt), asc(riskDecisions.agentId))
    .limit(limit);
  const items = await Promise.all(
    groups.map(async (g): Promise<OpenReview | undefined> => {
      const rows = await db
        .select({ d: riskDecisions, a: agents })
        .from(riskDecisions)
        .innerJoin(agents, eq(riskDecisions.agentId, agents.id))
        .where(and(isOpen, eq(riskDecisions.agentId, g.agentId)))
        .orderBy(desc(riskDecisions.triggeredAt), desc(riskDecisions.id))
        .limit(DECISIONS_READ);
      // Reviewed between the two reads: no longer open.
      const latest = rows[0];
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
        eventIds: [...new Set(rows.flatMap((r) => r.d.eventIds))].slice(0, 1000),
      };
    }),
  );
  return items.filter((i): i is OpenReview => i !== undefined);
}
