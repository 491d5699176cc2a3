import { and, asc, eq, lte } from "drizzle-orm";
import { agents, certificates } from "../db/schema.ts";
import type { Db } from "../db/index.ts";
import { appendAudit } from "../audit/append.ts";
import { SYSTEM, type AuditActor } from "../audit/types.ts";
import { enqueue } from "../publish/outbox.ts";

/**
 * Ends renewal overlaps that are due: `renewed` → `superseded`, audited, and the certificate and
 * its tenant's CRL queued for publication (the CRL then lists it with reason superseded(4) and the
 * pre-signed OCSP answer turns revoked/superseded). The edge's verify answer does not wait for this:
 * it flips at superseded_at by itself. Idempotent; safe on several origins at once (row update).
 * `actor`: who made this run (an admin's `POST /v1/admin/tidy` is the admin's act, not the system's).
 *
 * One transaction per agent, in the lock order of every decision about an agent: the agent's row,
 * then its certificates, then the tenant's audit head. Until 2026-12-07 one UPDATE locked every due
 * certificate first: a retirement (or a suspension) revoking the agent's certificates one after
 * another holds the agent and, once it audited the first, the audit head, and then locks the next
 * certificate; the job, holding that certificate and waiting for the head, deadlocked with it
 * (origin/test/supersede-lock-order.test.ts).
 */
export async function supersedeDue(db: Db, now: Date, actor: AuditActor = SYSTEM("renewal")): Promise<number> {
  const agentsDue = await db
    .selectDistinct({ agentId: certificates.agentId })
    .from(certificates)
    .where(and(eq(certificates.status, "renewed"), lte(certificates.supersededAt, now)))
    .orderBy(asc(certificates.agentId));
  let ended = 0;
  for (const { agentId } of agentsDue) ended += await supersedeAgent(db, agentId, now, actor);
  return ended;
}

/** The agent's due overlaps, under its row lock (it may have been revoked or renewed meanwhile: read again). */
async function supersedeAgent(db: Db, agentId: string, now: Date, actor: AuditActor): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.select({ id: agents.id }).from(agents).where(eq(agents.id, agentId)).for("update");
    const due = await tx
      .update(certificates)
      .set({ status: "superseded" })
      .where(and(eq(certificates.agentId, agentId), eq(certificates.status, "renewed"), lte(certificates.supersededAt, now)))
      .returning();
    const tenantId = due[0]?.tenantId;
    if (tenantId === undefined) return 0;
    await appendAudit(tx, tenantId, due.map((c) => ({
      kind: "certificate.superseded" as const, actor, agentId: c.agentId, at: now,
      data: { certificate_id: c.id, serial_number: c.serialNumber, superseded_by: c.supersededBy, superseded_at: c.supersededAt?.toISOString(), reason_code: "superseded" },
    })));
    await enqueue(tx, [...due.map((c) => ({ kind: "cert" as const, subject: c.serialNumber })), { kind: "crl", subject: tenantId }]);
    return due.length;
  });
}
