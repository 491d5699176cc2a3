import { and, eq, TransactionRollbackError } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import { sqlState, UNIQUE_VIOLATION, type Queryable } from "../db/index.ts";
import { authorities } from "../db/schema.ts";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import type { AuthorityRecord } from "../ca/authority.ts";
import type { x509 } from "../ca/x509.ts";
import { enqueue } from "../publish/outbox.ts";
import type { Services } from "../services.ts";
import { fail, type Failure } from "./failure.ts";

export interface Activation {
  /** The CA that was active before (retired now); none for a tenant's first issuing CA. */
  previous?: AuthorityRecord;
  current: AuthorityRecord;
}

export interface NewIssuing {
  cert: x509.X509Certificate;
  serial: string;
  keyRef: string;
}

/**
 * Makes `next` the tenant's active issuing CA, in one transaction: the current one (if any)
 * retired, the new one inserted, an audit entry, the tenant's CRLs queued for the edge. Shared by
 * the online rollover and the offline-root import. `expectCurrentId` (rollover) makes the retire
 * conditional on the CA the caller read still being the active one; the partial unique index
 * (one active issuing CA per tenant) turns any other race into a 409. `inTx` lets the caller
 * write its own rows (the CSR's status) in the same transaction; returning false aborts it.
 */
export async function activateIssuing(
  s: Services,
  tenant: { id: string },
  next: NewIssuing,
  o: {
    actor: AuditActor;
    kind: "ca.rolled_over" | "ca.imported";
    expectCurrentId?: string;
    inTx?: (tx: Queryable, inserted: AuthorityRecord) => Promise<boolean>;
  },
): Promise<Result<Activation, Failure>> {
  const now = s.clock.now();
  const { cert, serial, keyRef } = next;
  const conflict = fail("ca-rollover-conflict", "the issuing CA changed concurrently; read GET /v1/ca and retry if still needed");
  try {
    const result = await s.db.transaction(async (tx) => {
      const active = and(eq(authorities.kind, "issuing"), eq(authorities.tenantId, tenant.id), eq(authorities.status, "active"));
      const [retired] = await tx
        .update(authorities)
        .set({ status: "retired", retiredAt: now })
        .where(o.expectCurrentId ? and(active, eq(authorities.id, o.expectCurrentId)) : active)
        .returning();
      if (o.expectCurrentId && !retired) return undefined;
      const [inserted] = await tx
        .insert(authorities)
        .values({
          tenantId: tenant.id,
          kind: "issuing",
          serialNumber: serial,
          subject: cert.subject,
          certificatePem: cert.toString("pem") + "\n",
          keyRef,
          notBefore: cert.notBefore,
          notAfter: cert.notAfter,
        })
        .returning();
      if (o.inTx && !(await o.inTx(tx, inserted!))) {
        tx.rollback();
      }
      await appendAudit(tx, tenant.id, [
        {
          kind: o.kind,
          actor: o.actor,
          at: now,
          data: {
            previous_serial: retired?.serialNumber ?? null,
            serial_number: serial,
            subject: cert.subject,
            issuer: cert.issuer,
            key_ref: keyRef,
            not_before: cert.notBefore.toISOString(),
            not_after: cert.notAfter.toISOString(),
          },
        },
      ]);
      // Both CRLs (and the chains beside them) go to the edge at once.
      await enqueue(tx, [{ kind: "crl", subject: tenant.id }]);
      return { previous: retired, current: inserted! };
    });
    return result ? ok(result) : conflict;
  } catch (e) {
    if (sqlState(e) === UNIQUE_VIOLATION || e instanceof TransactionRollbackError) return conflict;
    throw e;
  } finally {
    s.ca.forgetIssuing(tenant.id);
  }
}
