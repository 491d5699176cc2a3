import { and, desc, eq, isNotNull } from "drizzle-orm";
import type { Queryable } from "../db/index.ts";
import { certificates, reviews } from "../db/schema.ts";

/** The revocation reason the risk monitor's automatic decision uses (internal/decide-risk.ts). */
const RISK_REASON = "risk_threshold";

export interface RiskSuspension {
  /**
   * `monitor`: the tenant policy revoked automatically (reason `risk_threshold`). `review`: an admin's
   * review confirmed a flag with `revoke` (POST /v1/agents/:id/review).
   */
  cause: "monitor" | "review";
  /** The certificate that suspension revoked; null for a review that found no valid certificate to revoke. */
  certificateId: string | null;
  serialNumber: string | null;
  /** When the agent was suspended. */
  revokedAt: Date;
}

/**
 * Whether a suspended agent is suspended *because of risk*: its most recent revocation carries
 * reason `risk_threshold`, or an admin's review confirmed the monitor's flag with `revoke` and
 * nothing was revoked after it. Lifting that is a human decision (an admin, with a reason): neither
 * an issuer key nor the agent itself may undo what the monitor decided or an admin confirmed.
 */
export async function riskSuspension(tx: Queryable, agentId: string): Promise<RiskSuspension | undefined> {
  const [last] = await tx
    .select({ id: certificates.id, serial: certificates.serialNumber, revokedAt: certificates.revokedAt, reason: certificates.revocationReason })
    .from(certificates)
    .where(and(eq(certificates.agentId, agentId), isNotNull(certificates.revokedAt)))
    .orderBy(desc(certificates.revokedAt))
    .limit(1);
  const [review] = await tx
    .select({ decidedAt: reviews.decidedAt })
    .from(reviews)
    .where(and(eq(reviews.agentId, agentId), eq(reviews.decision, "revoke")))
    .orderBy(desc(reviews.decidedAt))
    .limit(1);
  // A review's revocations carry its own time (review-agent.ts): a later revocation is another,
  // manual one, which an issuer may lift as before.
  if (review && (!last || review.decidedAt.getTime() >= last.revokedAt!.getTime())) {
    const revokedByIt = last !== undefined && last.revokedAt!.getTime() === review.decidedAt.getTime();
    return { cause: "review", certificateId: revokedByIt ? last.id : null, serialNumber: revokedByIt ? last.serial : null, revokedAt: review.decidedAt };
  }
  if (!last || last.reason !== RISK_REASON) return undefined;
  return { cause: "monitor", certificateId: last.id, serialNumber: last.serial, revokedAt: last.revokedAt! };
}

/** The sentence a refused or reason-less lift starts with. */
export function describeRiskSuspension(agentId: string, s: RiskSuspension): string {
  const at = s.revokedAt.toISOString();
  if (s.cause === "monitor") return `agent ${agentId} was suspended by the risk monitor (certificate ${s.serialNumber} revoked '${RISK_REASON}' at ${at})`;
  const cert = s.serialNumber ? `, certificate ${s.serialNumber} revoked` : "";
  return `agent ${agentId} was suspended by a review that confirmed the risk monitor's flag (decision 'revoke' at ${at}${cert})`;
}
