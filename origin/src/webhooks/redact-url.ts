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
  // A part without `=` (`?s3cr3tT0ken`, `?sk_live_abc&x=1`) parses as a name with an empty value:
  // the name is then the secret, so it is redacted whole.
  const parts = u.search
    .slice(1)
    .split("&")
    .filter((p) => p !== "");
  const names = parts.map((p) => (p.includes("=") ? `${encodeURIComponent(decodeName(p.slice(0, p.indexOf("="))))}=REDACTED` : "REDACTED"));
  return `${u.origin}${u.pathname}?${names.join("&")}`;
}

/** A query name as URLSearchParams reads it (`+` is a space, percent-escapes decoded; a bad escape kept as written). */
function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch {
    return raw;
  }
}
