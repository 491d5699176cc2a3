import { and, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/index.ts";
import { authorities, certificates, managedKeys, outbox } from "../db/schema.ts";
import type { AuthorityRecord } from "../ca/authority.ts";

/**
 * Retired issuing CAs (after a rollover, docs/ca-lifecycle.md) none of whose certificates is still
 * unexpired at `now`: they have nothing left to sign CRLs or OCSP responses for, so their KMS key
 * may be scheduled for deletion (the tidy job's concern) and the publisher stops re-signing their
 * CRL. Read-only; `now` is passed in so a tidy run can add its safety buffer.
 */
export async function retiredIssuersPastLastExpiry(db: Db, now: Date): Promise<AuthorityRecord[]> {
  const live = db.select({ one: sql`1` }).from(certificates)
    .where(and(eq(certificates.issuerId, authorities.id), gt(certificates.expiresAt, now)));
  return db.select().from(authorities)
    .where(and(eq(authorities.kind, "issuing"), eq(authorities.status, "retired"), sql`not exists (${live})`));
}

/**
 * The publisher's refresher re-signs OCSP responses for certificates up to one day past their
 * expiry (publish/refresher.ts), with their issuer's key: a CA key is kept at least that long
 * whatever safety buffer a tidy run is given, so a refresh never meets a deleted key.
 */
export const OCSP_TAIL_AFTER_EXPIRY_MS = 86_400_000;

/**
 * The retired issuing CAs whose key tidy may delete now: past their last certificate's expiry at
 * `cutoff` (now minus the safety buffer, and at least OCSP_TAIL_AFTER_EXPIRY_MS), key not already being deleted, and their final CRL
 * published, i.e. no CRL publication of their tenant still waiting in the outbox (the publisher
 * signs CRLs when it delivers them; once the last certificate has expired the next CRL set no
 * longer includes this CA, so nothing will ask for its key again).
 */
export async function retiredIssuerKeysDue(db: Db, o: { now: Date; cutoff: Date; limit: number }): Promise<AuthorityRecord[]> {
  const at = new Date(Math.min(o.cutoff.getTime(), o.now.getTime() - OCSP_TAIL_AFTER_EXPIRY_MS));
  const due = await retiredIssuersPastLastExpiry(db, at);
  if (!due.length) return [];
  const gone = new Set((await db.select({ ref: managedKeys.keyRef }).from(managedKeys)
    .where(and(inArray(managedKeys.keyRef, due.map((a) => a.keyRef)), inArray(managedKeys.state, ["deleting", "deleted"])))).map((r) => r.ref));
  const tenantsWithPendingCrl = new Set((await db.select({ subject: outbox.subject }).from(outbox)
    .where(and(eq(outbox.kind, "crl"), isNull(outbox.deliveredAt)))).map((r) => r.subject));
  return due.filter((a) => !gone.has(a.keyRef) && !(a.tenantId && tenantsWithPendingCrl.has(a.tenantId))).slice(0, o.limit);
}
