import type { certificates } from "../db/schema.ts";

// The certificate lifecycle's own vocabulary: domain code (lifecycle, publish, audit) and the
// views that render it both read it from here, so domain code never reaches up into views/.
export type CertificateRow = typeof certificates.$inferSelect;
export const CERTIFICATE_STATUSES = ["active", "renewed", "superseded", "revoked", "expired"] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

/**
 * Stored status as of `now`: an `active` certificate past its notAfter is `expired`; a `renewed`
 * one (the predecessor during a renewal overlap) is `superseded` from superseded_at on. No job has
 * to run for either transition to be true at the instant it happens.
 */
export function effectiveStatus(c: Pick<CertificateRow, "status" | "expiresAt" | "supersededAt">, now: Date): CertificateStatus {
  const t = now.getTime();
  if (c.status === "renewed" && c.supersededAt && c.supersededAt.getTime() <= t) return "superseded";
  if ((c.status === "active" || c.status === "renewed") && c.expiresAt.getTime() <= t) return "expired";
  return c.status;
}

/** Whether the certificate speaks for its agent at `now` (primary, or predecessor inside its overlap). */
export const isValidAt = (c: Pick<CertificateRow, "status" | "expiresAt" | "supersededAt">, now: Date): boolean => {
  const st = effectiveStatus(c, now);
  return st === "active" || st === "renewed";
};
