import { and, eq, lte } from "drizzle-orm";
import { kakuninOids, ok, type Result } from "@kakunin/shared";
import { sqlState, UNIQUE_VIOLATION } from "../db/index.ts";
import { agents, certificates } from "../db/schema.ts";
import { agentExtensions, agentName, BACKDATE_MS, DAY_MS } from "../ca/profiles.ts";
import { agentPkiUrls } from "../ca/urls.ts";
import { publicEdgeUrl } from "../config.ts";
import { newSerial } from "../ca/serial.ts";
import { signCertificate } from "../ca/sign-certificate.ts";
import type { Services } from "../services.ts";
import type { CertificateRow } from "../views/certificate.ts";
import { floorToSecond } from "../views/time.ts";
import { createHash } from "node:crypto";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { enqueue } from "../publish/outbox.ts";
import { fail, keyManagerFailure, type Failure } from "./failure.ts";
import { activeCertificate } from "./revoke.ts";
import { RISK_REASON, riskSuspension } from "./risk-suspension.ts";

/**
 * Issues an agent's certificate: a fresh RSA-2048 key inside the KeyManager, signed by the tenant's
 * issuing CA (one KMS Sign call). The partial unique index on certificates decides races: of two
 * concurrent calls exactly one inserts, the other gets 409.
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
    const why = `agent ${agentId} was suspended by the risk monitor (certificate ${suspension.serialNumber} revoked '${RISK_REASON}' at ${suspension.revokedAt.toISOString()})`;
    if (actor.type !== "api_key" || actor.role !== "admin") return fail("risk-suspension", `${why}; only an admin may lift it, with a reason`);
    if (!opts.reason) return fail("validation-failed", `${why}; lifting it needs a reason: POST {"reason": "..."}`);
  }
  const now = s.clock.now();
  // Cheap pre-check so the common 409 costs no key generation; the index is the real guard.
  const current = await activeCertificate(s.db, agent.id, now);
  if (current) return fail("already-active", `agent ${agentId} already has active certificate ${current.id} (serial ${current.serialNumber}); revoke it first`);

  const issuing = await s.ca.issuingFor(tenant);
  if (!issuing.ok) return keyManagerFailure(issuing.error);
  const key = await s.keys.createKey(`kakunin-agent-${agent.id}`);
  if (!key.ok) return keyManagerFailure(key.error);

  const issuedAt = floorToSecond(now.getTime());
  const validityEnd = issuedAt.getTime() + s.config.KAKUNIN_CERT_VALIDITY_DAYS * DAY_MS;
  // Never outlive the issuing CA: a relying party would reject the chain.
  const expiresAt = new Date(Math.min(validityEnd, issuing.value.cert.notAfter.getTime()));
  const serial = newSerial();
  const model = { name: agent.modelName, version: agent.modelVersion, hash: agent.modelHash };
  const cert = await signCertificate(s.keys, {
    serial,
    subject: agentName(agent.name, tenant.name),
    issuer: issuing.value.cert.subjectName,
    subjectSpki: key.value.publicKeySpki,
    issuerSpki: issuing.value.spki,
    notBefore: new Date(issuedAt.getTime() - BACKDATE_MS),
    notAfter: expiresAt,
    extensions: agentExtensions(agent.id, model, {
      modelOid: kakuninOids(s.config.KAKUNIN_OID_ARC).agentModelExtension,
      urls: agentPkiUrls(publicEdgeUrl(s.config), tenant.id, issuing.value.record.serialNumber),
    }),
    signerRef: issuing.value.record.keyRef,
  });
  if (!cert.ok) return keyManagerFailure(cert.error);

  try {
    const row = await s.db.transaction(async (tx) => {
      // Lock the agent: a retirement racing this issuance must not leave a retired agent certified.
      const [locked] = await tx.select({ status: agents.status }).from(agents).where(eq(agents.id, agent.id)).for("update");
      if (locked?.status === "retired") return "retired" as const;
      // An active certificate past its notAfter no longer blocks a new one.
      await tx
        .update(certificates)
        .set({ status: "expired" })
        .where(and(eq(certificates.agentId, agent.id), eq(certificates.status, "active"), lte(certificates.expiresAt, now)));
      const [inserted] = await tx.insert(certificates).values({
        tenantId: tenant.id, agentId: agent.id, issuerId: issuing.value.record.id, serialNumber: serial,
        certificatePem: cert.value.toString("pem") + "\n", keyRef: key.value.ref,
        modelName: model.name, modelVersion: model.version, modelHash: model.hash,
        status: "active", issuedAt, expiresAt,
      }).returning();
      // A new certificate lifts a suspension (the usual end of an investigation); retired stays retired.
      const [lifted] = await tx.update(agents).set({ status: "active", updatedAt: now })
        .where(and(eq(agents.id, agent.id), eq(agents.status, "suspended"))).returning({ id: agents.id });
      if (lifted) {
        await appendAudit(tx, tenant.id, [{
          kind: "agent.suspension_lifted", actor, agentId: agent.id, at: now,
          data: { reason: opts.reason ?? null, risk_suspension: suspension ? { certificate_id: suspension.certificateId, serial_number: suspension.serialNumber } : null },
        }]);
      }
      const der = new Uint8Array(cert.value.rawData);
      await appendAudit(tx, tenant.id, [
        { kind: "key.created", actor, agentId: agent.id, at: now, data: { key_ref: key.value.ref, backend: s.keys.kind, algorithm: "RSA-2048" } },
        {
          kind: "certificate.issued", actor, agentId: agent.id, at: now,
          data: {
            certificate_id: inserted!.id, serial_number: serial, issuer_serial: issuing.value.record.serialNumber,
            not_before: cert.value.notBefore.toISOString(), not_after: expiresAt.toISOString(), model, key_ref: key.value.ref,
            certificate_sha256: createHash("sha256").update(der).digest("hex"),
          },
        },
      ]);
      await enqueue(tx, [{ kind: "cert", subject: serial }, { kind: "agent", subject: agent.id }]);
      return inserted!;
    });
    if (row === "retired") return fail("agent-retired", `agent ${agentId} was retired during issuance`);
    return ok(row);
  } catch (e) {
    if (sqlState(e) === UNIQUE_VIOLATION) {
      return fail("already-active", `agent ${agentId} was certified concurrently; it already has an active certificate`);
    }
    throw e;
  }
}
