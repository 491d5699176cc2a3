import { and, eq } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import { agents } from "../db/schema.ts";
import type { Services } from "../services.ts";
import type { AgentRow } from "../db/rows.ts";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { enqueue } from "../publish/outbox.ts";
import { fail, type Failure } from "./failure.ts";
import { revokeValidCertificates } from "./revoke-valid.ts";
import { revokeAllAgentCredentials } from "./agent-credentials.ts";

/**
 * Retirement is final: every certificate that still speaks for the agent (the active one and a
 * renewed predecessor inside its overlap) is revoked (`cessationOfOperation`) and the agent can
 * never be certified or changed again. Its records stay for the audit trail.
 */
export async function retireAgent(s: Services, tenantId: string, agentId: string, actor: AuditActor): Promise<Result<AgentRow, Failure>> {
  return s.db.transaction(async (tx) => {
    const [agent] = await tx.select().from(agents).where(and(eq(agents.id, agentId), eq(agents.tenantId, tenantId))).for("update");
    if (!agent) return fail("not-found", `agent ${agentId} not found`);
    if (agent.status === "retired") return fail("already-retired", `agent ${agentId} is already retired`);
    // Taken once the agent's row is locked, not before the wait: the revocations below end the
    // certificates' validity at this time, which must not precede what was logged while waiting.
    const now = s.clock.now();
    // Every certificate that still speaks for it, a renewed predecessor inside its overlap included.
    const revoked = await revokeValidCertificates(tx, agent.id, { tenantId, reason: "agent retired", code: "cessationOfOperation", now, suspendAgent: false, actor });
    await revokeAllAgentCredentials(tx, tenantId, agent.id, now, actor);
    const [updated] = await tx.update(agents).set({ status: "retired", updatedAt: now }).where(eq(agents.id, agent.id)).returning();
    await appendAudit(tx, tenantId, [{ kind: "agent.retired", actor, agentId: agent.id, at: now, data: { revoked_certificate_id: revoked[0]?.id ?? null, revoked_certificate_ids: revoked.map((c) => c.id) } }]);
    await enqueue(tx, [{ kind: "agent", subject: agent.id }]);
    return ok(updated!);
  });
}
