import { and, desc, eq, inArray, isNull, ne } from "drizzle-orm";
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

/**
 * The open review queue (open = a `revoked` or `flagged` risk decision no review has closed), one
 * item per agent, oldest first. A retired agent is not in it: retirement (audited) closed the
 * question, and a retired agent takes no review decision. GET /v1/reviews and the console's
 * review page both read it here.
 */
export async function openReviews(db: Db, tenantId: string, limit: number): Promise<OpenReview[]> {
  const open = await db
    .select({ d: riskDecisions, a: agents })
    .from(riskDecisions)
    .innerJoin(agents, eq(riskDecisions.agentId, agents.id))
    .where(
      and(
        eq(riskDecisions.tenantId, tenantId),
        isNull(riskDecisions.reviewId),
        inArray(riskDecisions.decision, ["revoked", "flagged"]),
        ne(agents.status, "retired"),
      ),
    )
    .orderBy(desc(riskDecisions.triggeredAt))
    .limit(5000);
  const byAgent = new Map<string, typeof open>();
  for (const row of open) byAgent.set(row.a.id, [...(byAgent.get(row.a.id) ?? []), row]);
  return (
    [...byAgent.values()]
      .map((rows) => {
        const latest = rows[0]!;
        return {
          agentId: latest.a.id,
          name: latest.a.name,
          status: latest.a.status,
          kind: rows.some((r) => r.d.decision === "revoked") ? ("auto_revoked" as const) : ("review_required" as const),
          score: Math.max(...rows.map((r) => r.d.score)),
          openedAt: rows.at(-1)!.d.triggeredAt,
          alerts: rows.length,
          reasons: latest.d.reasons.slice(0, 5),
          eventIds: [...new Set(rows.flatMap((r) => r.d.eventIds))],
        };
      })
      // By instant, not by the RFC 3339 text (whole seconds print without a fraction, so text order is wrong within a second).
      .sort((x, y) => x.openedAt.getTime() - y.openedAt.getTime())
      .slice(0, limit)
  );
}
