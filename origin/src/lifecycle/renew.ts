import { and, eq, sql } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import { sqlState, UNIQUE_VIOLATION } from "../db/index.ts";
import { agents, certificates, tenants } from "../db/schema.ts";
import type { Services } from "../services.ts";
import { effectiveStatus, type CertificateRow } from "./certificate-status.ts";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { enqueue } from "../publish/outbox.ts";
import { emitWebhook } from "../webhooks/enqueue.ts";
import { partitionCrlItems } from "./crl-partition.ts";
import { fail, type Failure } from "./failure.ts";
import { discardPrepared, issuedAuditData, modelChanged, modelColumns, prepareCertificate, preparedRow } from "./issue.ts";
import { activeCertificate } from "./revoke.ts";
import { lockKeyForUse } from "./keys.ts";

export interface RenewOutcome {
  certificate: CertificateRow;
  predecessor: CertificateRow;
  overlapSeconds: number;
}

/**
 * Renews the agent's certificate without an outage: a successor with a fresh key becomes the
 * agent's `active` certificate, and the one it replaces becomes `renewed` — still valid until
 * `superseded_at` (now + overlap, never past its own notAfter), superseded from then on (CRL and
 * OCSP reason superseded(4), not a revocation for cause). The database allows one `active` and one
 * `renewed` certificate per agent; renewing again during an overlap ends the earlier overlap now.
 */
export async function renewCertificate(
  s: Services,
  tenant: { id: string; name: string },
  agentId: string,
  req: { overlapSeconds?: number },
  actor: AuditActor,
): Promise<Result<RenewOutcome, Failure>> {
  const [agent] = await s.db.select().from(agents).where(and(eq(agents.id, agentId), eq(agents.tenantId, tenant.id)));
  if (!agent) return fail("not-found", `agent ${agentId} not found`);
  if (agent.status === "retired") return fail("agent-retired", `agent ${agentId} is retired and cannot be renewed`);
  // A suspended agent is under investigation: renewal must not lift that (certify does, on purpose).
  if (agent.status === "suspended") return fail("no-active-certificate", `agent ${agentId} is suspended; certify it again after the investigation`);
  const now = s.clock.now();
  const current = await activeCertificate(s.db, agent.id, now);
  if (!current) return fail("no-active-certificate", `agent ${agentId} has no active certificate to renew; certify it instead`);
  const overlapSeconds = req.overlapSeconds ?? (await tenantOverlap(s, tenant.id));

  const prepared = await prepareCertificate(s, tenant, agent, now);
  if (!prepared.ok) return prepared;
  const p = prepared.value;
  let outcome: RenewOutcome | Failure;
  try {
    outcome = await s.db.transaction(async (tx): Promise<RenewOutcome | Failure> => {
      const [locked] = await tx.select({ status: agents.status, ...modelColumns }).from(agents).where(eq(agents.id, agent.id)).for("update");
      // Suspended meanwhile (a revocation committed while the key was made): the same answer as the
      // check above, not agent-retired, which tells a client the agent is gone for good.
      if (locked?.status === "suspended") return { type: "no-active-certificate", detail: `agent ${agentId} was suspended while renewing; nothing was issued: certify it again after the investigation` };
      if (locked?.status !== "active") return { type: "agent-retired", detail: `agent ${agentId} is ${locked?.status ?? "gone"}` };
      // The successor states the model read before its key was made; a model changed since must not be renewed into it.
      if (modelChanged(locked, agent)) return { type: "renewal-in-progress", detail: `agent ${agentId}'s model changed while renewing; nothing was issued: retry` };
      const [cur] = await tx.select().from(certificates).where(eq(certificates.id, current.id)).for("update");
      // The old certificates stop being valid from when this transaction holds their rows, not from
      // when the request came in: `now` was read before the successor's key was made (seconds in a
      // KMS or an HSM) and before these lock waits, while the edge went on accepting events under
      // them, logged before this renewal. A supersession (an overlap of 0, or an earlier overlap
      // this renewal ends) stamped at `now` made the evidence fail those honest events (check e).
      // The successor keeps `now` as its issue time: its certificate states it (notBefore).
      const at = new Date(Math.max(now.getTime(), s.clock.now().getTime()));
      if (!cur || cur.status !== "active" || effectiveStatus(cur, at) !== "active") {
        return { type: "renewal-in-progress", detail: `certificate ${current.id} changed while renewing (renewed, revoked or expired concurrently); retry` };
      }
      // Tidy may have taken the successor's key for an orphan meanwhile (keys.ts): never store a certificate on it.
      if (!(await lockKeyForUse(tx, p.key))) return { type: "database-conflict", detail: `the successor's key was claimed by a concurrent tidy run before it was stored; nothing was renewed: retry` };
      // An earlier overlap ends now: the database allows one predecessor per agent.
      const ended = await tx
        .update(certificates)
        .set({ status: "superseded", supersededAt: sql`least(${certificates.supersededAt}, ${at})` })
        .where(and(eq(certificates.agentId, agent.id), eq(certificates.status, "renewed")))
        .returning();
      const supersededAt = new Date(Math.min(at.getTime() + overlapSeconds * 1000, cur.expiresAt.getTime()));
      const [predecessor] = await tx
        .update(certificates)
        .set({ status: "renewed", supersededAt, supersededBy: p.serial })
        .where(eq(certificates.id, cur.id))
        .returning();
      const [inserted] = await tx.insert(certificates).values(preparedRow(p, tenant.id, agent.id)).returning();
      await appendAudit(tx, tenant.id, [
        // The overlap this renewal cuts short is a supersession like the job's (supersede.ts), made
        // here and now by this caller: audited as one, or the log kept a superseded_at days away
        // and never said it was ended early, by whom or when.
        ...ended.map((e) => ({
          kind: "certificate.superseded" as const, actor, agentId: agent.id, at,
          data: { certificate_id: e.id, serial_number: e.serialNumber, superseded_by: e.supersededBy, superseded_at: e.supersededAt?.toISOString(), reason_code: "superseded" },
        })),
        { kind: "key.created", actor, agentId: agent.id, at: now, data: { key_ref: p.key.ref, backend: s.keys.kind, algorithm: "RSA-2048" } },
        { kind: "certificate.issued", actor, agentId: agent.id, at: now, data: { ...issuedAuditData(p, inserted!.id), renewal_of: cur.serialNumber } },
        {
          kind: "certificate.renewed", actor, agentId: agent.id, at,
          data: { certificate_id: cur.id, serial_number: cur.serialNumber, successor_serial: p.serial, superseded_at: supersededAt.toISOString(), overlap_seconds: overlapSeconds },
        },
      ]);
      await emitWebhook(tx, {
        tenantId: tenant.id, type: "io.kakunin.certificate.renewed", agentId: agent.id, at,
        data: {
          certificate_id: inserted!.id, serial_number: p.serial, predecessor_id: cur.id, predecessor_serial: cur.serialNumber,
          superseded_at: supersededAt.toISOString(), overlap_seconds: overlapSeconds, expires_at: inserted!.expiresAt.toISOString(),
        },
      });
      await enqueue(tx, [
        { kind: "cert", subject: cur.serialNumber }, { kind: "cert", subject: p.serial }, { kind: "agent", subject: agent.id },
        ...ended.flatMap((e) => [{ kind: "cert" as const, subject: e.serialNumber }, { kind: "crl" as const, subject: tenant.id }]),
        ...(await partitionCrlItems(tx, inserted!)),
      ]);
      return { certificate: inserted!, predecessor: predecessor!, overlapSeconds };
    });
  } catch (e) {
    await discardPrepared(s, p, "renewal commit failed");
    if (sqlState(e) === UNIQUE_VIOLATION) return fail("renewal-in-progress", `agent ${agentId} was renewed or certified concurrently; retry`);
    throw e;
  }
  if ("type" in outcome) {
    // A key tidy claimed is tidy's to delete.
    if (outcome.type !== "database-conflict") await discardPrepared(s, p, "renewal refused");
    return { ok: false, error: outcome };
  }
  return ok(outcome);
}

async function tenantOverlap(s: Services, tenantId: string): Promise<number> {
  const [t] = await s.db.select({ policy: tenants.policy }).from(tenants).where(eq(tenants.id, tenantId));
  return t?.policy.renewal_overlap_seconds ?? s.config.KAKUNIN_RENEWAL_OVERLAP_S;
}
