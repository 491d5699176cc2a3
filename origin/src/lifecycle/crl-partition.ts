import { eq, sql } from "drizzle-orm";
import { partitionOf } from "../ca/crl-partitions.ts";
import type { Queryable } from "../db/index.ts";
import { authorities } from "../db/schema.ts";

/**
 * Draws the next issuance number of an issuing CA and returns its CRL partition. One atomic
 * increment in its own statement (not inside the issuance transaction: the partition must be known
 * before the certificate is signed, and the row lock lasts only this statement). A number drawn for
 * a certificate that is never committed leaves a gap, which only makes its partition smaller.
 */
export async function allocateCrlPartition(db: Queryable, issuerId: string): Promise<number> {
  const [row] = await db.update(authorities).set({ issuedCount: sql`${authorities.issuedCount} + 1` })
    .where(eq(authorities.id, issuerId)).returning({ n: authorities.issuedCount });
  if (!row) throw new Error(`no issuing CA ${issuerId}`);
  return partitionOf(Number(row.n));
}
