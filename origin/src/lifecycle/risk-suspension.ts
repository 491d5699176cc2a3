import { and, desc, eq, isNotNull } from "drizzle-orm";
import type { Queryable } from "../db/index.ts";
import { certificates } from "../db/schema.ts";

/** The revocation reason the risk monitor's automatic decision uses (internal/decide-risk.ts). */
export const RISK_REASON = "risk_threshold";

export interface RiskSuspension {
  certificateId: string;
  serialNumber: string;
  revokedAt: Date;
}

/**
 * Whether a suspended agent is suspended *because of risk*: its most recent revocation carries
 * reason `risk_threshold`. Lifting that is a human decision (an admin, with a reason): neither an
 * issuer key nor the agent itself may undo what the monitor decided.
 */
export async function riskSuspension(tx: Queryable, agentId: string): Promise<RiskSuspension | undefined> {
  const [last] = await tx
    .select({ id: certificates.id, serial: certificates.serialNumber, revokedAt: certificates.revokedAt, reason: certificates.revocationReason })
    .from(certificates)
    .where(and(eq(certificates.agentId, agentId), isNotNull(certificates.revokedAt)))
    .orderBy(desc(certificates.revokedAt))
    .limit(1);
  if (!last || last.reason !== RISK_REASON) return undefined;
  return { certificateId: last.id, serialNumber: last.serial, revokedAt: last.revokedAt! };
}
