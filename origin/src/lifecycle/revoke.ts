import { and, eq, inArray } from "drizzle-orm";
import { clampText, ok, REVOCATION_REASON_MAX, type Result } from "@kakunin/shared";
import type { Queryable } from "../db/index.ts";
import { agents, certificates } from "../db/schema.ts";
import { effectiveStatus, type CertificateRow } from "./certificate-status.ts";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import type { Clock } from "../clock.ts";
import { enqueue } from "../publish/outbox.ts";
import { emitWebhook } from "../webhooks/enqueue.ts";
import { fail, type Failure } from "./failure.ts";
import type { CrlReason } from "@kakunin/shared";

export interface RevokeInput {
  tenantId: string;
  certificateId: string;
  reason: string;
  code: CrlReason;
  /** The revocation's time, when the caller took it after locking the agent's row (see `clock`). */
  now: Date;
  /**
   * For a caller that has not locked the agent: the revocation's time is read from this clock once
   * the agent's and the certificate's rows are locked (never earlier than `now`), not before the wait.
   */
  clock?: Clock;
  /** Whether the agent is suspended by this revocation (not when its model was merely superseded). */
  suspendAgent: boolean;
  actor: AuditActor;
}

/**
 * Revokes one certificate inside the caller's transaction. Row-locked, so two revocations of the
 * same certificate yield one success and one 409.
 *
 * Lock order: the agent's row, then its certificate, as every other decision about an agent takes
 * them (certify, renew, retire, PATCH, review, the risk policy). The certificate was locked first
 * and the agent only when suspending it: a revocation racing a renewal of the same certificate on
 * another connection deadlocked (40P01 after deadlock_timeout, one side aborted with a 503)
 * instead of one waiting for the other (origin/test/revoke-renew-lock-order.test.ts).
 */
export async function revokeInTx(tx: Queryable, input: RevokeInput): Promise<Result<CertificateRow, Failure>> {
  const [owner] = await tx
    .select({ agentId: certificates.agentId })
    .from(certificates)
    .where(and(eq(certificates.id, input.certificateId), eq(certificates.tenantId, input.tenantId)));
  if (!owner) return fail("not-found", `certificate ${input.certificateId} not found`);
  // A lock this transaction already holds (the callers that locked the agent) is granted at once.
  await tx.select({ id: agents.id }).from(agents).where(eq(agents.id, owner.agentId)).for("update");
  const [cert] = await tx
    .select()
    .from(certificates)
    .where(and(eq(certificates.id, input.certificateId), eq(certificates.tenantId, input.tenantId)))
    .for("update");
  if (!cert) return fail("not-found", `certificate ${input.certificateId} not found`);
  // The certificate stops being valid now that nothing else can change it, not when the request
  // came in: stamped before the wait for these locks (another decision about the agent, on any
  // origin, can hold them for a while), revoked_at was earlier than events the edge accepted under
  // the still valid certificate meanwhile, and the evidence failed them (check e) although they were
  // honest. Events logged meanwhile are ordered before this entry; their receipt is before this time.
  const now = input.clock ? new Date(Math.max(input.now.getTime(), input.clock.now().getTime())) : input.now;
  const status = effectiveStatus(cert, now);
  if (status === "revoked") return fail("already-revoked", `certificate ${cert.id} was revoked at ${cert.revokedAt?.toISOString()}`);
  if (status === "superseded") return fail("already-superseded", `certificate ${cert.id} was superseded by ${cert.supersededBy} at ${cert.supersededAt?.toISOString()} (renewal); it is no longer valid`);
  if (status === "expired") return fail("certificate-expired", `certificate ${cert.id} expired at ${cert.expiresAt.toISOString()}; there is nothing to revoke`);
  const [revoked] = await tx
    .update(certificates)
    // Composed reasons ("review: …", "agent suspended: … (…)") can pass what the edge takes: cut, so
    // the revocation is never refused there for its text (the audit entry keeps the caller's words).
    .set({ status: "revoked", revokedAt: now, revocationReason: clampText(input.reason, REVOCATION_REASON_MAX), revocationCode: input.code })
    // A renewed certificate inside its overlap is still valid, so it can still be revoked for cause.
    .where(and(eq(certificates.id, cert.id), inArray(certificates.status, ["active", "renewed"])))
    .returning();
  if (!revoked) return fail("already-revoked", `certificate ${cert.id} was revoked concurrently`);
  if (input.suspendAgent) {
    await tx
      .update(agents)
      .set({ status: "suspended", updatedAt: now })
      .where(and(eq(agents.id, cert.agentId), eq(agents.status, "active")));
  }
  await appendAudit(tx, input.tenantId, [{
    kind: "certificate.revoked", actor: input.actor, agentId: revoked.agentId, at: now,
    data: {
      certificate_id: revoked.id, serial_number: revoked.serialNumber, reason: input.reason, reason_code: input.code,
      revoked_at: now.toISOString(), agent_suspended: input.suspendAgent,
    },
  }]);
  await emitWebhook(tx, {
    tenantId: input.tenantId, type: "io.kakunin.certificate.revoked", agentId: revoked.agentId, at: now,
    data: { certificate_id: revoked.id, serial_number: revoked.serialNumber, reason: input.reason, reason_code: input.code, agent_suspended: input.suspendAgent },
  });
  await enqueue(tx, [
    { kind: "cert", subject: revoked.serialNumber },
    { kind: "agent", subject: revoked.agentId },
    { kind: "crl", subject: revoked.tenantId },
  ]);
  return ok(revoked);
}

/** The agent's active, unexpired certificate, if any. */
export async function activeCertificate(tx: Queryable, agentId: string, now: Date): Promise<CertificateRow | undefined> {
  const [cert] = await tx
    .select()
    .from(certificates)
    .where(and(eq(certificates.agentId, agentId), eq(certificates.status, "active")));
  return cert && effectiveStatus(cert, now) === "active" ? cert : undefined;
}
