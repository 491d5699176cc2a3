import { and, eq, gt, sql } from "drizzle-orm";
import type { Db } from "../db/index.ts";
import { authorities, certificates } from "../db/schema.ts";
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
