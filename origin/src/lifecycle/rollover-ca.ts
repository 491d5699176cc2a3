import { and, eq } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import { sqlState, UNIQUE_VIOLATION } from "../db/index.ts";
import { authorities } from "../db/schema.ts";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import type { AuthorityRecord } from "../ca/authority.ts";
import { enqueue } from "../publish/outbox.ts";
import type { Services } from "../services.ts";
import { fail, keyManagerFailure, type Failure } from "./failure.ts";

export interface Rollover {
  previous: AuthorityRecord;
  current: AuthorityRecord;
}

/**
 * Issuing-CA rollover (docs/ca-lifecycle.md): a new key in the KeyManager, a new issuing CA signed
 * by the root, and in one transaction the old CA retired and the new one active. Certificates the
 * old CA issued stay valid: it keeps signing their CRL and OCSP responses until the last one
 * expires. New certificates come from the new CA. The partial unique index (one active issuing CA
 * per tenant) and the conditional retire make a concurrent rollover a 409, never two active CAs.
 */
export async function rolloverIssuingCa(
  s: Services,
  tenant: { id: string; name: string },
  actor: AuditActor,
): Promise<Result<Rollover, Failure>> {
  const current = await s.ca.issuingFor(tenant);
  if (!current.ok) return keyManagerFailure(current.error);
  const generation = (await s.ca.issuersOf(tenant.id)).length + 1;
  const next = await s.ca.signSuccessorIssuing(tenant, generation);
  if (!next.ok) return keyManagerFailure(next.error);
  const now = s.clock.now();
  const { cert, serial, keyRef } = next.value;
  try {
    const result = await s.db.transaction(async (tx) => {
      const [retired] = await tx.update(authorities).set({ status: "retired", retiredAt: now })
        .where(and(eq(authorities.id, current.value.record.id), eq(authorities.status, "active"))).returning();
      if (!retired) return undefined;
      const [inserted] = await tx.insert(authorities).values({
        tenantId: tenant.id, kind: "issuing", serialNumber: serial, subject: cert.subject,
        certificatePem: cert.toString("pem") + "\n", keyRef, notBefore: cert.notBefore, notAfter: cert.notAfter,
      }).returning();
      await appendAudit(tx, tenant.id, [{
        kind: "ca.rolled_over", actor, at: now,
        data: {
          previous_serial: retired.serialNumber, serial_number: serial, subject: cert.subject, key_ref: keyRef,
          not_before: cert.notBefore.toISOString(), not_after: cert.notAfter.toISOString(),
        },
      }]);
      // Both CRLs (and the chains beside them) go to the edge at once.
      await enqueue(tx, [{ kind: "crl", subject: tenant.id }]);
      return { previous: retired, current: inserted! };
    });
    if (!result) return fail("ca-rollover-conflict", "the issuing CA was rolled over concurrently; read GET /v1/ca and retry if still needed");
    return ok(result);
  } catch (e) {
    if (sqlState(e) === UNIQUE_VIOLATION) return fail("ca-rollover-conflict", "the issuing CA was rolled over concurrently");
    throw e;
  } finally {
    s.ca.forgetIssuing(tenant.id);
  }
}
