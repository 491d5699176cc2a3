import { and, eq, lte } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import { sqlState, UNIQUE_VIOLATION } from "../db/index.ts";
import { agents, certificates } from "../db/schema.ts";
import type { Services } from "../services.ts";
import type { CertificateRow } from "./certificate-status.ts";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { enqueue } from "../publish/outbox.ts";
import { partitionCrlItems } from "./crl-partition.ts";
import { fail, failField, type Failure } from "./failure.ts";
import { discardPrepared, issuedAuditData, modelChanged, modelColumns, prepareCertificate, preparedRow } from "./issue.ts";
import { lockKeyForUse } from "./keys.ts";
import { activeCertificate } from "./revoke.ts";
import { describeRiskSuspension, riskSuspension } from "./risk-suspension.ts";

/**
 * Issues an agent's certificate: a fresh RSA-2048 key inside the KeyManager, signed by the tenant's
 * issuing CA (one KMS Sign call). The partial unique index on certificates decides races: of two
 * concurrent calls exactly one inserts, the other gets 409 — and deletes the key it made, so a lost
 * race costs no KMS key-month.
 */
export async function certifyAgent(
  s: Services,
  tenant: { id: string; name: string },
  agentId: string,
  actor: AuditActor,
  /** Why a suspension is lifted; required (and admin-only) when the suspension came from risk. */
  opts: { reason?: string } = {},
): Promise<Result<CertificateRow, Failure>> {
  const [agent] = await s.db.select().from(agents).where(and(eq(agents.id, agentId), eq(agents.tenantId, tenant.id)));
  if (!agent) return fail("not-found", `agent ${agentId} not found`);
  if (agent.status === "retired") return fail("agent-retired", `agent ${agentId} is retired and cannot be certified`);
  const suspension = agent.status === "suspended" ? await riskSuspension(s.db, agent.id) : undefined;
  if (suspension) {
    const why = describeRiskSuspension(agentId, suspension);
    if (actor.type !== "api_key" || actor.role !== "admin") return fail("risk-suspension", `${why}; only an admin may lift it, with a reason`);
    if (!opts.reason) return failField("reason", "required to lift a suspension made by the risk monitor", `${why}; lifting it needs a reason: POST {"reason": "..."}`);
  }
  const now = s.clock.now();
  // Cheap pre-check so the common 409 costs no key generation; the index is the real guard.
  const current = await activeCertificate(s.db, agent.id, now);
  if (current) return fail("already-active", `agent ${agentId} already has active certificate ${current.id} (serial ${current.serialNumber}); renew or revoke it first`);

  const prepared = await prepareCertificate(s, tenant, agent, now);
  if (!prepared.ok) return prepared;
  const p = prepared.value;

  let row: CertificateRow | "retired" | "model-changed" | "key-claimed";
  try {
    row = await s.db.transaction(async (tx) => {
      // Lock the agent: a retirement racing this issuance must not leave a retired agent certified,
      // nor a model change an active certificate stating the old model.
      const [locked] = await tx.select({ status: agents.status, ...modelColumns }).from(agents).where(eq(agents.id, agent.id)).for("update");
      if (locked?.status === "retired") return "retired" as const;
      if (locked && modelChanged(locked, agent)) return "model-changed" as const;
      // Tidy may have taken the new key for an orphan meanwhile (keys.ts): never store a certificate on it.
      if (!(await lockKeyForUse(tx, p.key))) return "key-claimed" as const;
      // An active certificate past its notAfter no longer blocks a new one.
      await tx
        .update(certificates)
        .set({ status: "expired" })
        .where(and(eq(certificates.agentId, agent.id), eq(certificates.status, "active"), lte(certificates.expiresAt, now)));
      const [inserted] = await tx.insert(certificates).values(preparedRow(p, tenant.id, agent.id)).returning();
      // A new certificate lifts a suspension (the usual end of an investigation); retired stays retired.
      const [lifted] = await tx.update(agents).set({ status: "active", updatedAt: now })
        .where(and(eq(agents.id, agent.id), eq(agents.status, "suspended"))).returning({ id: agents.id });
      if (lifted) {
        await appendAudit(tx, tenant.id, [{
          kind: "agent.suspension_lifted", actor, agentId: agent.id, at: now,
          data: { reason: opts.reason ?? null, risk_suspension: suspension ? { certificate_id: suspension.certificateId, serial_number: suspension.serialNumber } : null },
        }]);
      }
      await appendAudit(tx, tenant.id, [
        { kind: "key.created", actor, agentId: agent.id, at: now, data: { key_ref: p.key.ref, backend: s.keys.kind, algorithm: "RSA-2048" } },
        { kind: "certificate.issued", actor, agentId: agent.id, at: now, data: issuedAuditData(p, inserted!.id) },
      ]);
      await enqueue(tx, [{ kind: "cert", subject: p.serial }, { kind: "agent", subject: agent.id }, ...(await partitionCrlItems(tx, inserted!))]);
      return inserted!;
    });
  } catch (e) {
    // Whatever failed, nothing references the key: delete it before answering.
    await discardPrepared(s, p, sqlState(e) === UNIQUE_VIOLATION ? "lost certify race" : "commit failed");
    if (sqlState(e) === UNIQUE_VIOLATION) {
      return fail("already-active", `agent ${agentId} was certified concurrently; it already has an active certificate`);
    }
    throw e;
  }
  if (row === "retired") {
    await discardPrepared(s, p, "agent retired during issuance");
    return fail("agent-retired", `agent ${agentId} was retired during issuance`);
  }
  if (row === "key-claimed") {
    // Tidy owns the key now and deletes it; nothing was issued and a retry makes a new one.
    return fail("database-conflict", `agent ${agentId}'s new key was claimed by a concurrent tidy run before the certificate was stored; nothing was issued: retry`);
  }
  if (row === "model-changed") {
    await discardPrepared(s, p, "agent's model changed during issuance");
    return fail("conflict", `agent ${agentId}'s model changed during issuance; nothing was issued: certify it again`);
  }
  return ok(row);
}
