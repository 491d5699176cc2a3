import type { AgentCreate } from "@kakunin/shared";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import type { AgentRow } from "../db/rows.ts";
import { agents } from "../db/schema.ts";
import type { Services } from "../services.ts";

/** Registers an agent (status active, no certificate yet), audited `agent.created` in the same transaction. */
export async function createAgent(s: Services, tenantId: string, body: AgentCreate, actor: AuditActor): Promise<AgentRow> {
  const now = s.clock.now();
  return s.db.transaction(async (tx) => {
    const [inserted] = await tx
      .insert(agents)
      .values({
        tenantId,
        name: body.name,
        modelName: body.model.name,
        modelVersion: body.model.version,
        modelHash: body.model.hash,
        ownerName: body.owner.name,
        ownerEmail: body.owner.email,
        // Stored de-duplicated, in the order given: scopes are a set.
        scopes: [...new Set(body.scopes)],
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await appendAudit(tx, tenantId, [
      {
        kind: "agent.created",
        actor,
        agentId: inserted!.id,
        at: now,
        data: { name: body.name, model: body.model, owner: body.owner, scopes: inserted!.scopes },
      },
    ]);
    return inserted!;
  });
}
