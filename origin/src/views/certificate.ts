import { z } from "zod";
import { CERTIFICATE_STATUSES, effectiveStatus, type CertificateRow } from "../lifecycle/certificate-status.ts";
import { rfc3339 } from "../time.ts";

/** The certify response, field for field as the certificates spec (seed 004) defines it. */
export const issuedCertificateView = z.object({
  id: z.uuid(),
  agent_id: z.uuid(),
  serial_number: z.string(),
  certificate_pem: z.string(),
  kms_key_arn: z.string(),
  status: z.enum(CERTIFICATE_STATUSES),
  issued_at: z.string(),
  expires_at: z.string(),
});

export const certificateView = issuedCertificateView.extend({
  tenant_id: z.uuid(),
  model: z.object({ name: z.string(), version: z.string(), hash: z.string() }),
  revoked_at: z.string().nullable(),
  revocation_reason: z.string().nullable(),
  /** End of the renewal overlap (this certificate was renewed), else null. */
  superseded_at: z.string().nullable(),
  /** Serial of the successor, else null. */
  superseded_by: z.string().nullable(),
});

export const revokedView = z.object({
  id: z.uuid(),
  status: z.literal("revoked"),
  revoked_at: z.string(),
  revocation_reason: z.string(),
});

export function toIssuedView(c: CertificateRow, now: Date): z.infer<typeof issuedCertificateView> {
  return {
    id: c.id,
    agent_id: c.agentId,
    serial_number: c.serialNumber,
    certificate_pem: c.certificatePem,
    kms_key_arn: c.keyRef,
    status: effectiveStatus(c, now),
    issued_at: rfc3339(c.issuedAt),
    expires_at: rfc3339(c.expiresAt),
  };
}

export function toCertificateView(c: CertificateRow, now: Date): z.infer<typeof certificateView> {
  return {
    ...toIssuedView(c, now),
    tenant_id: c.tenantId,
    model: { name: c.modelName, version: c.modelVersion, hash: c.modelHash },
    revoked_at: rfc3339(c.revokedAt),
    revocation_reason: c.revocationReason,
    superseded_at: rfc3339(c.supersededAt),
    superseded_by: c.supersededBy,
  };
}

export function toRevokedView(c: CertificateRow): z.infer<typeof revokedView> {
  return { id: c.id, status: "revoked", revoked_at: rfc3339(c.revokedAt!), revocation_reason: c.revocationReason ?? "" };
}
