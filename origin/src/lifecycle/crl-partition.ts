import { and, eq, ne, sql } from "drizzle-orm";
import { partitionOf } from "../ca/crl-partitions.ts";
import type { Queryable } from "../db/index.ts";
import { authorities, certificates } from "../db/schema.ts";

/**
 * Draws the next issuance number of an issuing CA and returns its CRL partition. One atomic
 * increment in its own statement (not inside the issuance transaction: the partition must be known
 * before the certificate is signed, and the row lock lasts only this statement). A number drawn for
 * a certificate that is never committed leaves a gap, which only makes its partition smaller.
 */
export async function allocateCrlPartition(db: Queryable, issuerId: string): Promise<number> {
  const [row] = await db
    .update(authorities)
    .set({ issuedCount: sql`${authorities.issuedCount} + 1` })
    .where(eq(authorities.id, issuerId))
    .returning({ n: authorities.issuedCount });
  if (!row) throw new Error(`no issuing CA ${issuerId}`);
  return partitionOf(Number(row.n));
}

/**
 * Outbox items for a certificate just inserted (inside its transaction): the tenant's CRLs when it
 * is the first certificate committed in its partition, so the CRL its CRL Distribution Point names
 * exists at the edge from the start instead of after the next revocation or the 12 h refresh (a
 * relying party would fail a good certificate: "unable to get certificate CRL"). Two concurrent
 * first certificates both enqueue it; the publisher collapses them.
 */
export async function partitionCrlItems(
  tx: Queryable,
  cert: { id: string; tenantId: string; issuerId: string; crlPartition: number | null },
): Promise<{ kind: "crl"; subject: string }[]> {
  if (cert.crlPartition === null) return [];
  const [other] = await tx
    .select({ id: certificates.id })
    .from(certificates)
    .where(and(eq(certificates.issuerId, cert.issuerId), eq(certificates.crlPartition, cert.crlPartition), ne(certificates.id, cert.id)))
    .limit(1);
  return other ? [] : [{ kind: "crl", subject: cert.tenantId }];
}
