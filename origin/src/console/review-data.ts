import { and, desc, eq, inArray, isNull } from "drizzle-orm";
import type { Db } from "../db/index.ts";
import { agents, riskDecisions } from "../db/schema.ts";
import type { Reason } from "./agent-data.ts";

export interface QueueItem {
  agentId: string;
  name: string;
  status: "active" | "suspended" | "retired";
  kind: "review_required" | "auto_revoked";
  score: number;
  openedAt: Date;
  alerts: number;
  reasons: Reason[];
}

/**
 * The open review queue, read the way GET /v1/reviews reads it (open = a `revoked` or `flagged`
 * risk decision that no review has closed), one item per agent, oldest first.
 */
export async function reviewQueue(db: Db, tenantId: string, limit: number): Promise<QueueItem[]> {
  const open = await db
    .select({ d: riskDecisions, a: agents })
    .from(riskDecisions)
    .innerJoin(agents, eq(riskDecisions.agentId, agents.id))
    .where(and(eq(riskDecisions.tenantId, tenantId), isNull(riskDecisions.reviewId), inArray(riskDecisions.decision, ["revoked", "flagged"])))
    .orderBy(desc(riskDecisions.triggeredAt))
    .limit(5000);
  const byAgent = new Map<string, typeof open>();
  for (const row of open) byAgent.set(row.a.id, [...(byAgent.get(row.a.id) ?? []), row]);
  return [...byAgent.values()]
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
      };
    })
    .sort((x, y) => x.openedAt.getTime() - y.openedAt.getTime())
    .slice(0, limit);
}
