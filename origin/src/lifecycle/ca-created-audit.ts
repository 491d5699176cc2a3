import { appendAudit } from "../audit/append.ts";
import type { OnAuthorityCreated } from "../ca/authority.ts";

/**
 * The `ca.created` audit entry for an authority the CA layer created (a tenant's issuing CA or
 * tree-head signer; the root belongs to no tenant's log), appended in the transaction that stores
 * it. Wired into CertificateAuthority by build-services: the CA layer never imports audit.
 */
export const auditAuthorityCreated: OnAuthorityCreated = async (tx, c) => {
  if (!c.tenantId) return;
  await appendAudit(tx, c.tenantId, [
    {
      kind: "ca.created",
      actor: { type: "system", id: "certificate-authority" },
      at: c.at,
      data: {
        kind: c.kind,
        serial_number: c.serialNumber,
        subject: c.subject,
        key_ref: c.keyRef,
        not_before: c.notBefore.toISOString(),
        not_after: c.notAfter.toISOString(),
      },
    },
  ]);
};
