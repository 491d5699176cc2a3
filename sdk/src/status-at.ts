import type { CertificateStatus } from "./types.ts";

/**
 * A certificate's status at `t` (epoch ms). Revocation is stored; supersession (after a renewal's
 * overlap) and expiry follow from the clock, so they need no publication. One definition for the
 * edge (over its status record) and the SDK (over a cached edge answer, so an answer cached a
 * moment before `not_after` or `superseded_at` does not outlive it).
 */
export function statusAt(c: { status: CertificateStatus; superseded_at?: string | null; not_after: string }, t: number): CertificateStatus {
  if (c.status === "revoked") return "revoked";
  if (c.status === "superseded" || (c.superseded_at && t >= Date.parse(c.superseded_at))) return "superseded";
  if (c.status === "expired" || t >= Date.parse(c.not_after)) return "expired";
  return "active";
}
