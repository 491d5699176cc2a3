import { and, asc, desc, eq } from "drizzle-orm";
import type { Db } from "../db/index.ts";
import { agentEvents, agents, auditEntries, certificates, riskDecisions } from "../db/schema.ts";

export type Reason = { feature: string; contribution: number; detail: string };

/** The agent in the caller's tenant (anything else does not exist, as in the API). */
export async function agentInTenant(db: Db, tenantId: string, id: string) {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined;
  const [a] = await db
    .select()
    .from(agents)
    .where(and(eq(agents.id, id), eq(agents.tenantId, tenantId)));
  return a;
}

export async function certificatesOf(db: Db, agentId: string) {
  return db.select().from(certificates).where(eq(certificates.agentId, agentId)).orderBy(asc(certificates.issuedAt));
}

/**
 * Newest first by receipt (then claimed time, the order the edge scored a batch in): the claimed
 * time is the agent's to choose, up to 30 days back, and must not decide what is current.
 */
const newestFirst = [desc(agentEvents.receivedAt), desc(agentEvents.occurredAt), desc(agentEvents.id)];

/** The newest events (last received), newest first, for the events table. */
export async function latestEvents(db: Db, agentId: string, limit: number) {
  return db
    .select()
    .from(agentEvents)
    .where(eq(agentEvents.agentId, agentId))
    .orderBy(...newestFirst)
    .limit(limit);
}

export async function decisionsOf(db: Db, agentId: string) {
  return db.select().from(riskDecisions).where(eq(riskDecisions.agentId, agentId)).orderBy(asc(riskDecisions.triggeredAt));
}

/** The agent's newest audit entries (index order reversed), for the in-browser proof check. */
export async function auditOf(db: Db, tenantId: string, agentId: string, limit: number) {
  return db
    .select({ idx: auditEntries.idx, kind: auditEntries.kind, createdAt: auditEntries.createdAt })
    .from(auditEntries)
    .where(and(eq(auditEntries.tenantId, tenantId), eq(auditEntries.agentId, agentId)))
    .orderBy(desc(auditEntries.idx))
    .limit(limit);
}

/** How many points the timeline draws at most: the last received (a year of minutes would not fit a chart). */
export const TIMELINE_POINTS = 5000;

export interface Timeline {
  thresholds: { medium: number; high: number };
  points: { t: number; score: number; band: string; action: string; event_id: string; reasons: Reason[] }[];
  marks: { t: number; kind: "revocation" | "review" | "decision"; label: string }[];
}

/**
 * Score per event over time with the band thresholds, and the moments that matter marked:
 * revocations (with their reason) and risk decisions (revoked or flagged for review).
 */
export async function timelineOf(db: Db, agentId: string, thresholds: { medium: number; high: number }): Promise<Timeline> {
  const rows = await db
    .select({
      t: agentEvents.occurredAt,
      score: agentEvents.score,
      band: agentEvents.band,
      action: agentEvents.action,
      eventId: agentEvents.eventId,
      reasons: agentEvents.reasons,
    })
    .from(agentEvents)
    .where(eq(agentEvents.agentId, agentId))
    .orderBy(...newestFirst)
    .limit(TIMELINE_POINTS);
  // Drawn at the times the agent claims (the events table shows both), in that order.
  rows.sort((a, b) => a.t.getTime() - b.t.getTime());
  const marks: Timeline["marks"] = [];
  for (const c of await certificatesOf(db, agentId)) {
    if (c.revokedAt)
      marks.push({
        t: c.revokedAt.getTime() / 1000,
        kind: "revocation",
        label: `certificate ${c.serialNumber.slice(0, 12)}… revoked: ${c.revocationReason ?? "unspecified"}`,
      });
  }
  for (const d of await decisionsOf(db, agentId)) {
    marks.push({
      t: d.triggeredAt.getTime() / 1000,
      kind: d.decision === "flagged" ? "review" : "decision",
      label: `risk ${d.score.toFixed(2)} → ${d.decision}`,
    });
  }
  marks.sort((a, b) => a.t - b.t);
  return {
    thresholds,
    points: rows.map((r) => ({ t: r.t.getTime() / 1000, score: r.score, band: r.band, action: r.action, event_id: r.eventId, reasons: r.reasons })),
    marks,
  };
}
