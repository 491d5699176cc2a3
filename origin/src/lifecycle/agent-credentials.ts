import { and, count, eq, isNull } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import type { Queryable } from "../db/index.ts";
import { agentCredentials, agents } from "../db/schema.ts";
import { generateAgentCredential, hashApiKey, keyPrefix } from "../auth/api-keys.ts";
import { appendAudit } from "../audit/append.ts";
import { enqueue } from "../publish/outbox.ts";
import type { AuditActor } from "../audit/types.ts";
import type { Services } from "../services.ts";
import { fail, type Failure } from "./failure.ts";

export type AgentCredentialRow = typeof agentCredentials.$inferSelect;

/**
 * Mints a credential for one agent; the plaintext is returned once and never stored. At most
 * KAKUNIN_MAX_AGENT_CREDENTIALS live ones per agent (409 `credential-limit`). Bound to the
 * agent, not to a certificate: it keeps working across renewals and stops with the agent's
 * certificate (sign and ingest tokens need an active one) or its own revocation.
 */
export async function createAgentCredential(
  s: Services,
  input: { tenantId: string; agentId: string; name: string; createdBy: string; actor: AuditActor },
): Promise<Result<{ row: AgentCredentialRow; key: string }, Failure>> {
  return s.db.transaction(async (tx) => {
    // Locked so a retirement racing this cannot leave a live credential on a retired agent.
    const [agent] = await tx.select({ status: agents.status }).from(agents)
      .where(and(eq(agents.id, input.agentId), eq(agents.tenantId, input.tenantId))).for("update");
    if (!agent) return fail("not-found", `agent ${input.agentId} not found`);
    if (agent.status === "retired") return fail("agent-retired", `agent ${input.agentId} is retired; it gets no credentials`);
    // Counted under the agent's row lock, so concurrent mints cannot both take the last place.
    const max = s.config.KAKUNIN_MAX_AGENT_CREDENTIALS;
    const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(agentCredentials)
      .where(and(eq(agentCredentials.agentId, input.agentId), isNull(agentCredentials.revokedAt)));
    if (n >= max) {
      return fail("credential-limit", `agent ${input.agentId} already has ${n} live credentials (at most ${max}); revoke one first (POST /v1/agents/${input.agentId}/credentials/:cid/revoke)`);
    }
    const key = generateAgentCredential();
    const [row] = await tx.insert(agentCredentials).values({
      tenantId: input.tenantId, agentId: input.agentId, name: input.name, keyHash: hashApiKey(key), prefix: keyPrefix(key),
      createdBy: input.createdBy, createdAt: s.clock.now(),
    }).returning();
    await appendAudit(tx, input.tenantId, [{
      kind: "agent_credential.created", actor: input.actor, agentId: input.agentId, at: row!.createdAt,
      data: { credential_id: row!.id, name: row!.name, prefix: row!.prefix },
    }]);
    return ok({ row: row!, key });
  });
}

/** Revokes one credential of one agent; 404 outside the tenant or agent, 409 when already revoked. */
export async function revokeAgentCredential(
  s: Services,
  input: { tenantId: string; agentId: string; credentialId: string; actor: AuditActor },
): Promise<Result<AgentCredentialRow, Failure>> {
  const mine = and(eq(agentCredentials.id, input.credentialId), eq(agentCredentials.agentId, input.agentId), eq(agentCredentials.tenantId, input.tenantId));
  return s.db.transaction(async (tx) => {
    const now = s.clock.now();
    const [revoked] = await tx.update(agentCredentials).set({ revokedAt: now }).where(and(mine, isNull(agentCredentials.revokedAt))).returning();
    if (revoked) {
      await appendAudit(tx, input.tenantId, [{
        kind: "agent_credential.revoked", actor: input.actor, agentId: input.agentId, at: now, data: { credential_id: revoked.id, name: revoked.name },
      }]);
      // The agent's record at the edge lists it, and the edge refuses the ingest tokens it minted.
      await enqueue(tx, [{ kind: "agent", subject: input.agentId }]);
      return ok(revoked);
    }
    const [existing] = await tx.select({ id: agentCredentials.id }).from(agentCredentials).where(mine);
    if (!existing) return fail("not-found", `credential ${input.credentialId} of agent ${input.agentId} not found`);
    return fail("conflict", `credential ${input.credentialId} is already revoked`);
  });
}

/** Every live credential of an agent, revoked inside the caller's transaction (retirement). */
export async function revokeAllAgentCredentials(tx: Queryable, tenantId: string, agentId: string, now: Date, actor: AuditActor): Promise<void> {
  const gone = await tx.update(agentCredentials).set({ revokedAt: now })
    .where(and(eq(agentCredentials.agentId, agentId), isNull(agentCredentials.revokedAt))).returning({ id: agentCredentials.id, name: agentCredentials.name });
  if (gone.length === 0) return;
  await appendAudit(tx, tenantId, gone.map((g) => ({
    kind: "agent_credential.revoked" as const, actor, agentId, at: now, data: { credential_id: g.id, name: g.name, why: "agent retired" },
  })));
}
