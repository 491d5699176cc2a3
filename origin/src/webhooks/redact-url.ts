/**
 * A webhook URL as people other than the tenant's admins see it, and as logs keep it: the query's
 * values are replaced, its names kept. Receivers that authenticate by a token in the query
 * (`?token=…`, `?code=…`, as many chat and automation hooks do) would otherwise hand that token to
 * every auditor and to the audit trail, which is WORM and can never be purged. The scheme, host,
 * port and path still say which receiver it is. A secret in the path cannot be told from a path
 * and is kept.
 */
export function redactedUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return "(unreadable url)";
  }
  if (!u.search) return u.toString();
  const names = [...u.searchParams.keys()].map((k) => `${encodeURIComponent(k)}=REDACTED`);
  return `${u.origin}${u.pathname}?${names.join("&")}`;
}
