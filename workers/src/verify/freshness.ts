/** How long (s) an HTTP cache may reuse an `active` verify answer when nothing is about to change. */
export const ACTIVE_MAX_AGE_S = 2;
/** How long (s) a final answer (revoked, expired) may be reused: it will not change back. */
export const FINAL_MAX_AGE_S = 300;

/**
 * `Cache-Control` for an `active` answer. A cache in front of the edge cannot recompute a status,
 * so the answer must not stay fresh past the instant the certificate stops being active: its
 * expiry or the end of a renewal's overlap. A flat `max-age=2` let a certificate that expired
 * (or was superseded) a moment ago be served as active and valid for up to two more seconds.
 */
export function activeCacheControl(rec: { not_after: string; superseded_at?: string | null }, now: number): string {
  const changes = [rec.not_after, rec.superseded_at]
    .filter((t): t is string => typeof t === "string")
    .map((t) => Date.parse(t))
    .filter(Number.isFinite);
  const left = changes.length ? Math.floor((Math.min(...changes) - now) / 1000) : ACTIVE_MAX_AGE_S;
  return `public, max-age=${Math.max(0, Math.min(ACTIVE_MAX_AGE_S, left))}`;
}
