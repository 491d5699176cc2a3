import { and, eq, inArray, isNull } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { agents, reviews, riskDecisions } from "../db/schema.ts";
import { enqueue } from "../publish/outbox.ts";
import type { Services } from "../services.ts";
import { emitWebhook } from "../webhooks/enqueue.ts";
import { fail, type Failure } from "./failure.ts";
import { revokeValidCertificates } from "./revoke-valid.ts";
import { riskSuspension } from "./risk-suspension.ts";

export type ReviewDecision = "clear" | "revoke" | "reinstate";

export interface ReviewOutcome {
  id: string;
  agent_id: string;
  decision: ReviewDecision;
  reason: string;
  agent_status: "active" | "suspended" | "retired";
  closed_alerts: number;
  revoked_certificate_id: string | null;
}

/**
 * A human decision on an agent the risk policy flagged or auto-revoked, closing every open risk
 * decision of the agent in one transaction with its audit entry, webhook and edge notifications
 * (given `alerts`, the number of them the reviewer saw, only if that many are open; given `openedAt`,
 * the oldest of them the reviewer saw, only if it is the oldest open: review-stale):
 * - `clear`: a false positive. The flag is lifted and the reviewed events become normal history
 *   (the agent's monitor is told, via the outbox). An auto-revoked agent stays suspended: use reinstate.
 * - `revoke`: confirmed. The active certificate (if any) is revoked and the agent suspended.
 * - `reinstate`: a false positive that was auto-revoked: the risk suspension is lifted (the revoked
 *   certificate stays revoked, as revocation is final; certify the agent again) and the events become
 *   normal. Only a risk suspension: one by a manual revocation since is not the review's to lift (409).
 */
export async function reviewAgent(
  s: Services,
  tenantId: string,
  agentId: string,
  input: { decision: ReviewDecision; reason: string; alerts?: number | undefined; openedAt?: Date | undefined },
  actor: AuditActor,
): Promise<Result<ReviewOutcome, Failure>> {
  return s.db.transaction(async (tx) => {
    const [agent] = await tx
      .select()
      .from(agents)
      .where(and(eq(agents.id, agentId), eq(agents.tenantId, tenantId)))
      .for("update");
    if (!agent) return fail("not-found", `agent ${agentId} not found`);
    // Taken once the agent's row is locked, not before the wait: the revocations below end the
    // certificates' validity at this time, which must not precede what was logged while waiting.
    const now = s.clock.now();
    const open = await tx
      .select()
      .from(riskDecisions)
      .where(and(eq(riskDecisions.agentId, agent.id), isNull(riskDecisions.reviewId), inArray(riskDecisions.decision, ["revoked", "flagged"])));
    if (open.length === 0) return fail("nothing-to-review", `agent ${agentId} has no flagged or auto-revoked risk decision awaiting review`);
    // Open alerts only grow until a decision closes them all: another count than the reviewer's is
    // alerts the reviewer has not seen (or a decision someone else made since).
    if (input.alerts !== undefined && input.alerts !== open.length) {
      return fail("review-stale", `agent ${agentId} has ${open.length} open alerts; the decision was made on ${input.alerts}: load the review queue again`);
    }
    // A count does not say which alerts: after someone else's decision closed the ones the reviewer
    // saw, the agent can be flagged again (the clear's after-review alert comes at once) with as many
    // new ones. The oldest open alert's time (the queue's `opened_at`) changes with every decision.
    const opened = Math.min(...open.map((d) => d.triggeredAt.getTime()));
    if (input.openedAt !== undefined && input.openedAt.getTime() !== opened) {
      return fail(
        "review-stale",
        `agent ${agentId}'s open alerts were opened at ${new Date(opened).toISOString()}; the decision was made on alerts opened at ${input.openedAt.toISOString()}: load the review queue again`,
      );
    }
    if (agent.status === "retired") return fail("agent-retired", `agent ${agentId} is retired`);
    const suspension = agent.status === "suspended" ? await riskSuspension(tx, agent.id) : undefined;
    if (input.decision === "reinstate" && agent.status !== "suspended") {
      return fail("conflict", `agent ${agentId} is ${agent.status}, not suspended: use clear to close a flag`);
    }
    // Reinstate lifts what the risk monitor (or a review's revoke) did. A suspension by a manual
    // revocation since (a key compromise found while the flag waited) is not the review's to lift:
    // it was, and a decision about risk set the agent active, audited with "false positive" as why.
    if (input.decision === "reinstate" && !suspension) {
      return fail(
        "conflict",
        `agent ${agentId} is suspended by a manual revocation, not by the risk monitor: clear closes the flag (the agent stays suspended); certifying it lifts that suspension`,
      );
    }
    // A clear would close the decisions and leave the agent suspended, out of the queue, where the
    // reinstate that lifts the suspension finds nothing to review: refuse it and name the choices.
    if (input.decision === "clear" && suspension) {
      return fail("conflict", `agent ${agentId} is suspended by the risk monitor: reinstate it (a false positive) or revoke (confirmed)`);
    }
    let revokedId: string | null = null;
    let status = agent.status;
    if (input.decision === "revoke") {
      const revoked = await revokeValidCertificates(tx, agent.id, {
        tenantId,
        reason: `review: ${input.reason}`,
        code: "privilegeWithdrawn",
        now,
        suspendAgent: true,
        actor,
      });
      revokedId = revoked[0]?.id ?? null;
      status = "suspended";
      await tx.update(agents).set({ status, reviewRequestedAt: null, updatedAt: now }).where(eq(agents.id, agent.id));
    } else {
      if (input.decision === "reinstate") status = "active";
      await tx.update(agents).set({ status, reviewRequestedAt: null, updatedAt: now }).where(eq(agents.id, agent.id));
      if (input.decision === "reinstate") {
        // The same audit entry as lifting a risk suspension by certifying (lifecycle/certify.ts): admin, with a reason.
        await appendAudit(tx, tenantId, [
          {
            kind: "agent.suspension_lifted",
            actor,
            agentId: agent.id,
            at: now,
            data: {
              reason: input.reason,
              risk_suspension: suspension ? { certificate_id: suspension.certificateId, serial_number: suspension.serialNumber } : null,
            },
          },
        ]);
      }
    }
    const eventIds = [...new Set(open.flatMap((d) => d.eventIds))].slice(0, 1000);
    const [review] = await tx
      .insert(reviews)
      .values({
        tenantId,
        agentId: agent.id,
        decision: input.decision,
        reason: input.reason,
        decidedBy: actor.id,
        eventIds,
        decidedAt: now,
      })
      .returning();
    await tx
      .update(riskDecisions)
      .set({ reviewId: review!.id })
      .where(
        inArray(
          riskDecisions.id,
          open.map((d) => d.id),
        ),
      );
    const data = {
      review_id: review!.id,
      decision: input.decision,
      reason: input.reason,
      alert_ids: open.map((d) => d.alertId),
      event_ids: eventIds,
      agent_status: status,
      revoked_certificate_id: revokedId,
    };
    await appendAudit(tx, tenantId, [{ kind: "review.decided", actor, agentId: agent.id, at: now, data }]);
    await emitWebhook(tx, { tenantId, type: "io.kakunin.agent.reviewed", agentId: agent.id, at: now, data: { ...data, event_ids: eventIds.slice(0, 100) } });
    await enqueue(tx, [{ kind: "agent", subject: agent.id }, ...(input.decision === "revoke" ? [] : [{ kind: "feedback" as const, subject: review!.id }])]);
    return ok({
      id: review!.id,
      agent_id: agent.id,
      decision: input.decision,
      reason: input.reason,
      agent_status: status,
      closed_alerts: open.length,
      revoked_certificate_id: revokedId,
    });
  });
}
