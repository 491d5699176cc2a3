import { and, eq } from "drizzle-orm";
import { ok, type AgentPatch, type Result } from "@kakunin/shared";
import { agents } from "../db/schema.ts";
import type { Services } from "../services.ts";
import type { AgentRow } from "../db/rows.ts";
import type { CertificateRow } from "./certificate-status.ts";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { enqueue } from "../publish/outbox.ts";
import { fail, type Failure } from "./failure.ts";
import { validCertificates } from "./valid-certificates.ts";
import { revokeValidCertificates } from "./revoke-valid.ts";

export interface PatchOutcome {
  agent: AgentRow;
  /** Set when a new model hash superseded the active certificate (a renewed predecessor is revoked with it). */
  superseded?: CertificateRow;
}

/**
 * Applies a partial update. A different `model.hash` means the certificate no longer describes the
 * agent that runs, so its active certificate (and a renewed predecessor inside its overlap) is
 * revoked (`superseded`) in the same transaction. The agent stays `active`: it is awaiting a new
 * certificate, not under suspicion.
 */
export async function patchAgent(
  s: Services,
  tenantId: string,
  agentId: string,
  patch: AgentPatch,
  actor: AuditActor,
): Promise<Result<PatchOutcome, Failure>> {
  return s.db.transaction(async (tx) => {
    const [agent] = await tx.select().from(agents).where(and(eq(agents.id, agentId), eq(agents.tenantId, tenantId))).for("update");
    if (!agent) return fail("not-found", `agent ${agentId} not found`);
    if (agent.status === "retired") return fail("agent-retired", `agent ${agentId} is retired and cannot be changed`);
    // Taken once the agent's row is locked, not before the wait: the revocations below end the
    // certificates' validity at this time, which must not precede what was logged while waiting.
    const now = s.clock.now();
    // Every field named already has that value (a client re-applying its desired state): nothing
    // happened, so nothing is written. An `agent.updated` entry would claim a change nobody made,
    // in the lifecycle chain every evidence bundle of the agent carries.
    if (!changesAnything(agent, patch)) return ok({ agent });
    const hashChanged = patch.model?.hash !== undefined && patch.model.hash !== agent.modelHash;
    let superseded: CertificateRow | undefined;
    if (hashChanged) {
      // The renewed predecessor inside its overlap binds the old model as much as the active certificate does.
      const revoked = await revokeValidCertificates(tx, agent.id, { tenantId, reason: "superseded", code: "superseded", now, suspendAgent: false, actor });
      superseded = revoked[0];
    }
    const [updated] = await tx
      .update(agents)
      .set({
        name: patch.name ?? agent.name,
        modelName: patch.model?.name ?? agent.modelName,
        modelVersion: patch.model?.version ?? agent.modelVersion,
        modelHash: patch.model?.hash ?? agent.modelHash,
        ownerName: patch.owner?.name ?? agent.ownerName,
        ownerEmail: patch.owner?.email ?? agent.ownerEmail,
        scopes: patch.scopes ?? agent.scopes,
        sensitivity: patch.sensitivity ?? agent.sensitivity,
        updatedAt: now,
      })
      .where(eq(agents.id, agent.id))
      .returning();
    await appendAudit(tx, tenantId, [{
      kind: "agent.updated", actor, agentId: agent.id, at: now,
      data: { changes: patch, before: previousValues(agent, patch), model_hash_changed: hashChanged, superseded_certificate_id: superseded?.id ?? null },
    }]);
    // Scopes and the agent's status travel in the edge's status record of every certificate that
    // still verifies: the active one and a renewed predecessor inside its overlap, which otherwise
    // kept the old scopes until its overlap ended.
    const valid = await validCertificates(tx, agent.id, now);
    await enqueue(tx, [{ kind: "agent", subject: agent.id }, ...valid.map((c) => ({ kind: "cert" as const, subject: c.serialNumber }))]);
    return ok({ agent: updated!, superseded });
  });
}

/** Whether any field the PATCH names differs from the agent's value (scopes compared in order, as stored). */
function changesAnything(agent: AgentRow, patch: AgentPatch): boolean {
  const before = previousValues(agent, patch);
  const after = patch as Record<string, unknown>;
  return Object.keys(before).some((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

/**
 * What each field the PATCH names was before it (nested members of `model` and `owner` one by
 * one), so the entry says "scopes went from X to Y" on its own: without it an investigator had to
 * replay every earlier entry of the agent from its creation, which an excerpt of the log does not hold.
 */
function previousValues(agent: AgentRow, patch: AgentPatch): Record<string, unknown> {
  const model = { name: agent.modelName, version: agent.modelVersion, hash: agent.modelHash };
  const owner = { name: agent.ownerName, email: agent.ownerEmail };
  const pick = <T extends Record<string, string>>(from: T, keys: object): Partial<T> =>
    Object.fromEntries(Object.keys(keys).filter((k) => k in from).map((k) => [k, from[k]])) as Partial<T>;
  return {
    ...(patch.name !== undefined && { name: agent.name }),
    ...(patch.model !== undefined && { model: pick(model, patch.model) }),
    ...(patch.owner !== undefined && { owner: pick(owner, patch.owner) }),
    ...(patch.scopes !== undefined && { scopes: agent.scopes }),
    ...(patch.sensitivity !== undefined && { sensitivity: agent.sensitivity }),
  };
}
