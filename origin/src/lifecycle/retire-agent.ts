import { and, eq } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import { agents } from "../db/schema.ts";
import type { Services } from "../services.ts";
import type { AgentRow } from "../db/rows.ts";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { enqueue } from "../publish/outbox.ts";
import { fail, type Failure } from "./failure.ts";
import { activeCertificate, revokeInTx } from "./revoke.ts";
import { revokeAllAgentCredentials } from "./agent-credentials.ts";

/**
 * Retirement is final: the active certificate is revoked (`cessationOfOperation`) and the agent can
 * never be certified or changed again. Its records stay for the audit trail.
 */
export async function retireAgent(s: Services, tenantId: string, agentId: string, actor: AuditActor): Promise<Result<AgentRow, Failure>> {
  const now = s.clock.now();
  return s.db.transaction(async (tx) => {
    const [agent] = await tx.select().from(agents).where(and(eq(agents.id, agentId), eq(agents.tenantId, tenantId))).for("update");
    if (!agent) return fail("not-found", `agent ${agentId} not found`);
    if (agent.status === "retired") return fail("already-retired", `agent ${agentId} is already retired`);
    const active = await activeCertificate(tx, agent.id, now);
    if (active) {
      const r = await revokeInTx(tx, {
        tenantId, certificateId: active.id, reason: "agent retired", code: "cessationOfOperation", now, suspendAgent: false, actor,
      });
      if (!r.ok) return r;
    }
    await revokeAllAgentCredentials(tx, tenantId, agent.id, now, actor);
    const [updated] = await tx.update(agents).set({ status: "retired", updatedAt: now }).where(eq(agents.id, agent.id)).returning();
    await appendAudit(tx, tenantId, [{ kind: "agent.retired", actor, agentId: agent.id, at: now, data: { revoked_certificate_id: active?.id ?? null } }]);
    await enqueue(tx, [{ kind: "agent", subject: agent.id }]);
    return ok(updated!);
  });
}
