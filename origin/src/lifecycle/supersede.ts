import { and, eq, lte } from "drizzle-orm";
import { certificates } from "../db/schema.ts";
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
 */
export async function supersedeDue(db: Db, now: Date, actor: AuditActor = SYSTEM("renewal")): Promise<number> {
  return db.transaction(async (tx) => {
    const due = await tx
      .update(certificates)
      .set({ status: "superseded" })
      .where(and(eq(certificates.status, "renewed"), lte(certificates.supersededAt, now)))
      .returning();
    const byTenant = new Map<string, typeof due>();
    for (const c of due) byTenant.set(c.tenantId, [...(byTenant.get(c.tenantId) ?? []), c]);
    for (const [tenantId, certs] of byTenant) {
      await appendAudit(tx, tenantId, certs.map((c) => ({
        kind: "certificate.superseded" as const, actor, agentId: c.agentId, at: now,
        data: { certificate_id: c.id, serial_number: c.serialNumber, superseded_by: c.supersededBy, superseded_at: c.supersededAt?.toISOString(), reason_code: "superseded" },
      })));
      await enqueue(tx, [...certs.map((c) => ({ kind: "cert" as const, subject: c.serialNumber })), { kind: "crl", subject: tenantId }]);
    }
    return due.length;
  });
}
