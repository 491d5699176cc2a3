import { and, eq } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import { authorities, caRequests } from "../db/schema.ts";
import type { AuditActor } from "../audit/types.ts";
import type { AuthorityRecord } from "../ca/authority.ts";
import { checkImportedIssuing, storedSerial } from "../ca/check-issuing.ts";
import { x509 } from "../ca/x509.ts";
import type { Services } from "../services.ts";
import { activateIssuing } from "./activate-issuing.ts";
import { fail, keyManagerFailure, type Failure } from "./failure.ts";

export interface Imported {
  current: AuthorityRecord;
  previous?: AuthorityRecord;
  /** The same certificate was imported before: nothing changed (a retried import). */
  replayed: boolean;
}

/**
 * Offline-root mode, step 2 (docs/ca-lifecycle.md): the certificate the operator signed with the
 * offline root for the tenant's pending request. It is checked (ca/check-issuing.ts: chains to the
 * configured root, carries the pending key, CA:TRUE pathlen 0, key usage, tenant, validity inside
 * the root's) and then activated exactly as a rollover activates a new CA: the previous one (if
 * any) retired and kept for the CRL and OCSP of its certificates. Importing the same certificate
 * again answers the same result and changes nothing.
 */
export async function importIssuingCa(s: Services, tenant: { id: string; name: string }, pem: string, actor: AuditActor): Promise<Result<Imported, Failure>> {
  if (!s.ca.offlineRoot) return fail("conflict", "importing an issuing CA is for offline-root mode (KAKUNIN_ROOT_CERT_FILE)");
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(pem);
  } catch {
    return fail("invalid-ca-certificate", "certificate_pem is not a PEM X.509 certificate");
  }
  const root = await s.ca.root();
  if (!root.ok) return keyManagerFailure(root.error);
  const serial = storedSerial(cert);
  const [known] = await s.db.select().from(authorities).where(eq(authorities.serialNumber, serial));
  if (known) {
    const same = known.tenantId === tenant.id && new x509.X509Certificate(known.certificatePem).equal(cert);
    return same ? ok({ current: known, replayed: true }) : fail("conflict", `an authority with serial ${serial} already exists`);
  }
  const [pending] = await s.db
    .select()
    .from(caRequests)
    .where(and(eq(caRequests.tenantId, tenant.id), eq(caRequests.status, "pending")));
  if (!pending) return fail("conflict", "this tenant has no pending issuing-CA request: create one first (POST /v1/tenant/ca/csr)");
  const csr = new x509.Pkcs10CertificateRequest(pending.csrPem);
  const checked = await checkImportedIssuing(cert, {
    root: root.value.cert,
    spki: new Uint8Array(csr.publicKey.rawData),
    tenantId: tenant.id,
    tenantExtensionOid: s.ca.oids.tenantExtension,
    now: s.clock.now(),
  });
  if (!checked.ok) return fail("invalid-ca-certificate", checked.error);
  const r = await activateIssuing(
    s,
    tenant,
    { cert, serial, keyRef: pending.keyRef },
    {
      actor,
      kind: "ca.imported",
      // The request is consumed in the same transaction; a concurrent import of it loses here.
      inTx: async (tx, inserted) =>
        (
          await tx
            .update(caRequests)
            .set({ status: "imported", importedAt: s.clock.now(), authorityId: inserted.id })
            .where(and(eq(caRequests.id, pending.id), eq(caRequests.status, "pending")))
            .returning()
        ).length === 1,
    },
  );
  if (!r.ok) return r;
  return ok({ ...r.value, replayed: false });
}
