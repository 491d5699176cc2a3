import { and, count, desc, eq, gte, isNotNull, isNull, min, sql } from "drizzle-orm";
import type { Db } from "../db/index.ts";
import { agentEvents, auditBatches, certificates, deadLetters, outbox, webhookDeliveries } from "../db/schema.ts";
import { rowsOfResult } from "../db/index.ts";
import { OUTBOX_RETENTION_MS } from "../publish/refresher.ts";

export interface Propagation {
  serial: string;
  revokedAt: Date;
  deliveredAt: Date | null;
  ms: number | null;
}

const pct = (xs: number[], p: number): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/**
 * Tenant health from the origin's own tables: how fast revocations reached the edge (revoked_at →
 * the edge acknowledging the certificate's publication), outbox, forwarding and archive lag, dead
 * letters, webhook deliveries.
 */
export async function tenantHealth(db: Db, tenantId: string, now: Date) {
  const revoked = await db
    .select({ serial: certificates.serialNumber, revokedAt: certificates.revokedAt })
    .from(certificates)
    // Inside the outbox's retention only: an older revocation's rows are pruned, and "not
    // delivered" would be a false alarm.
    .where(and(eq(certificates.tenantId, tenantId), gte(certificates.revokedAt, new Date(now.getTime() - OUTBOX_RETENTION_MS))))
    .orderBy(desc(certificates.revokedAt))
    .limit(20);
  const propagation: Propagation[] = [];
  for (const r of revoked) {
    const [d] = await db
      .select({ at: min(outbox.deliveredAt) })
      .from(outbox)
      .where(and(eq(outbox.kind, "cert"), eq(outbox.subject, r.serial), sql`${outbox.deliveredAt} >= ${r.revokedAt}`));
    const at = d?.at ? new Date(d.at) : null;
    propagation.push({ serial: r.serial, revokedAt: r.revokedAt!, deliveredAt: at, ms: at ? at.getTime() - r.revokedAt!.getTime() : null });
  }
  const ms = propagation.flatMap((p) => (p.ms === null ? [] : [p.ms]));
  // The outbox is shared by every tenant of this origin: shown origin-wide, counts only.
  const [pending] = await db
    .select({ n: count(), oldest: min(outbox.createdAt) })
    .from(outbox)
    .where(isNull(outbox.deliveredAt));
  const fwd = rowsOfResult<{ lag_ms: number }>(
    await db.execute(
      sql`select extract(epoch from (${agentEvents.storedAt} - ${agentEvents.receivedAt})) * 1000 as lag_ms from ${agentEvents} where ${agentEvents.tenantId} = ${tenantId} order by ${agentEvents.storedAt} desc limit 1000`,
    ),
  ).map((r) => Number(r.lag_ms));
  const [archive] = await db
    .select({ n: count(), oldest: min(auditBatches.sealedAt) })
    .from(auditBatches)
    .where(and(eq(auditBatches.tenantId, tenantId), isNull(auditBatches.archivedAt)));
  const [lastArchived] = await db
    .select({ at: auditBatches.archivedAt })
    .from(auditBatches)
    .where(and(eq(auditBatches.tenantId, tenantId), isNotNull(auditBatches.archivedAt)))
    .orderBy(desc(auditBatches.archivedAt))
    .limit(1);
  const dead = await db
    .select({ source: deadLetters.source, kind: deadLetters.kind, n: count() })
    .from(deadLetters)
    .where(and(eq(deadLetters.tenantId, tenantId), isNull(deadLetters.replayedAt)))
    .groupBy(deadLetters.source, deadLetters.kind);
  const hooks = await db
    .select({ status: webhookDeliveries.status, n: count() })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.tenantId, tenantId))
    .groupBy(webhookDeliveries.status);
  const recentHooks = await db
    .select({
      id: webhookDeliveries.id,
      type: webhookDeliveries.eventType,
      status: webhookDeliveries.status,
      attempts: webhookDeliveries.attempts,
      next: webhookDeliveries.nextAttemptAt,
    })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.tenantId, tenantId))
    .orderBy(desc(webhookDeliveries.nextAttemptAt))
    .limit(10);
  return {
    propagation,
    propagationP50: pct(ms, 50),
    propagationMax: ms.length ? Math.max(...ms) : null,
    outbox: { pending: Number(pending?.n ?? 0), oldestAgeS: pending?.oldest ? Math.round((now.getTime() - new Date(pending.oldest).getTime()) / 1000) : null },
    forward: { samples: fwd.length, p50: pct(fwd, 50), p95: pct(fwd, 95) },
    archive: {
      pending: Number(archive?.n ?? 0),
      oldestAgeS: archive?.oldest ? Math.round((now.getTime() - new Date(archive.oldest).getTime()) / 1000) : null,
      lastArchivedAt: lastArchived?.at ?? null,
    },
    deadLetters: dead.map((d) => ({ ...d, n: Number(d.n) })),
    webhooks: { byStatus: hooks.map((h) => ({ ...h, n: Number(h.n) })), recent: recentHooks },
  };
}
