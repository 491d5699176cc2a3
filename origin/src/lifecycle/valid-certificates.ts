import { and, eq, inArray } from "drizzle-orm";
import type { Queryable } from "../db/index.ts";
import { certificates } from "../db/schema.ts";
import { isValidAt, type CertificateRow } from "./certificate-status.ts";

/**
 * Every certificate that still speaks for the agent at `now`: the active one and a renewed
 * predecessor inside its overlap (valid until superseded_at), the active one first. What a
 * decision about the agent (a review's revoke, the auto-revocation check) must act on: risk is
 * the agent's, not one certificate's.
 */
export async function validCertificates(tx: Queryable, agentId: string, now: Date): Promise<CertificateRow[]> {
  const rows = await tx
    .select()
    .from(certificates)
    .where(and(eq(certificates.agentId, agentId), inArray(certificates.status, ["active", "renewed"])));
  return rows.filter((c) => isValidAt(c, now)).sort((a, b) => (a.status === "active" ? -1 : b.status === "active" ? 1 : 0));
}
