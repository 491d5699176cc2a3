import { and, eq } from "drizzle-orm";
import { agents, certificates, riskDecisions, tenants } from "../db/schema.ts";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { isValidAt } from "../lifecycle/certificate-status.ts";
import { revokeValidCertificates } from "../lifecycle/revoke-valid.ts";
import { validCertificates } from "../lifecycle/valid-certificates.ts";
import { enqueue } from "../publish/outbox.ts";
import type { Services } from "../services.ts";
import type { RiskAlert } from "@kakunin/shared";
import { emitWebhook } from "../webhooks/enqueue.ts";

export type RiskDecision = "revoked" | "flagged" | "already_revoked" | "no_active_certificate";

/**
 * The auto-revocation check. The alert names the certificate the agent posted under, but the risk
 * is the agent's: tenant policy `auto_revoke` (default on) revokes every certificate that still
 * speaks for the agent (the active one and a renewed predecessor inside its overlap, which an
 * alert may well name) with reason `risk_threshold`, suspends the agent and publishes it; off, the
 * agent is flagged for human review while it has a valid certificate. Either way the decision,
 * its score, reasons and events are recorded. Idempotent per alert.
 */
export async function decideRisk(s: Services, alert: RiskAlert): Promise<{ decision: RiskDecision; certificate_id: string | null } | undefined> {
  const actor: AuditActor = { type: "system", id: "risk-policy" };
  return s.db.transaction(async (tx) => {
    const decided = async () => (await tx.select().from(riskDecisions).where(eq(riskDecisions.alertId, alert.alert_id)))[0];
    const done = await decided();
    if (done) return { decision: done.decision, certificate_id: null };
    const [agent] = await tx.select().from(agents).where(and(eq(agents.id, alert.agent_id), eq(agents.tenantId, alert.tenant_id))).for("update");
    if (!agent) return undefined;
    // Taken once the agent's row is locked, not before the wait: the revocations below end the
    // certificates' validity at this time, which must not precede what was logged while waiting.
    const now = s.clock.now();
    // Read again under the agent's lock: a copy of this alert (the edge re-sends one it got no
    // answer for) decided while this one waited for the lock is committed now, and deciding again
    // would fail on the alert id's unique index.
    const raced = await decided();
    if (raced) return { decision: raced.decision, certificate_id: null };
    const [tenant] = await tx.select({ policy: tenants.policy }).from(tenants).where(eq(tenants.id, agent.tenantId));
    const autoRevoke = tenant!.policy.auto_revoke;
    const [cert] = await tx.select().from(certificates).where(and(eq(certificates.serialNumber, alert.serial_number), eq(certificates.agentId, agent.id)));
    let decision: RiskDecision;
    let revokedId: string | null = null;
    // The named certificate still speaks for the agent (an alert about a certificate revoked,
    // superseded or expired since decides nothing new: someone acted, or the agent moved on), and
    // the decision covers every certificate that does.
    const valid = cert && isValidAt(cert, now) ? await validCertificates(tx, agent.id, now) : [];
    if (!cert) decision = "no_active_certificate";
    else if (valid.length === 0) decision = "already_revoked";
    else if (autoRevoke) {
      const revoked = await revokeValidCertificates(tx, agent.id, {
        tenantId: agent.tenantId, reason: "risk_threshold", code: "privilegeWithdrawn", now, suspendAgent: true, actor,
      });
      revokedId = revoked[0]?.id ?? null;
      decision = revokedId ? "revoked" : "already_revoked";
    } else {
      decision = "flagged";
      // Already awaiting review: this alert joins that review (the queue counts it), which stays
      // requested since it first was. People are told of the band change, not of the same review again.
      if (agent.reviewRequestedAt === null) {
        await tx.update(agents).set({ reviewRequestedAt: now, updatedAt: now }).where(eq(agents.id, agent.id));
        await enqueue(tx, [{ kind: "agent", subject: agent.id }]);
      }
    }
    await appendAudit(tx, agent.tenantId, [{
      kind: "risk.decision", actor, agentId: agent.id, at: now,
      data: {
        alert_id: alert.alert_id, decision, auto_revoke: autoRevoke, score: alert.score, serial_number: alert.serial_number,
        reasons: alert.reasons, event_ids: alert.event_ids, triggered_at: alert.triggered_at,
      },
    }]);
    // Alerts for people: the band change, then what the policy did about it.
    const about = { score: alert.score, serial_number: alert.serial_number, reasons: alert.reasons.slice(0, 5), event_ids: alert.event_ids.slice(0, 100), alert_id: alert.alert_id };
    await emitWebhook(tx, { tenantId: agent.tenantId, type: "io.kakunin.agent.risk.high", agentId: agent.id, at: now, data: { ...about, band: "high" } });
    if (decision === "revoked") await emitWebhook(tx, { tenantId: agent.tenantId, type: "io.kakunin.agent.auto_revoked", agentId: agent.id, at: now, data: { ...about, certificate_id: revokedId } });
    if (decision === "flagged" && agent.reviewRequestedAt === null) await emitWebhook(tx, { tenantId: agent.tenantId, type: "io.kakunin.agent.review_required", agentId: agent.id, at: now, data: about });
    await tx.insert(riskDecisions).values({
      alertId: alert.alert_id, tenantId: agent.tenantId, agentId: agent.id, serialNumber: alert.serial_number, score: alert.score,
      decision, autoRevoke, reasons: alert.reasons, eventIds: alert.event_ids, triggeredAt: new Date(alert.triggered_at),
    });
    return { decision, certificate_id: revokedId ?? cert?.id ?? null };
  });
}
