/**
 * Numeric options are checked when the gateway starts, as `maxBand` / `maxRisk` are: a gateway
 * that read `Number(process.env.X)` from an unset variable got NaN, and every comparison with NaN
 * is false. A NaN `maxSkewMs` accepted a signature dated 2001 and let it be replayed forever; a NaN
 * `cacheTtlMs` kept an "active" answer after its revocation for good; a NaN `maxBodyBytes` removed
 * the body cap. A misconfigured gateway should fail at startup, not in production.
 */
export function numberOption(
  name: string,
  value: number | undefined,
  fallback: number,
  { min = 0, integer = false }: { min?: number; integer?: boolean } = {},
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw new TypeError(`${name} must be a finite ${integer ? "integer" : "number"} ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * The edge's base URL without trailing slashes, checked at startup: `/v1/verify/<serial>` is
 * appended to it as text, so a query or fragment moved every lookup elsewhere, and credentials (or
 * a space) made each request fail at fetch time, reported only as "edge unreachable".
 */
export function edgeBaseUrl(raw: string): string {
  const trimmed = typeof raw === "string" ? raw.replace(/\/+$/, "") : "";
  let url: URL | undefined;
  try {
    url = new URL(trimmed);
  } catch {
    url = undefined;
  }
  const fine = url !== undefined && /^https?:\/\/[^/]/.test(trimmed) && !/[\s?#]/.test(trimmed) && url.username === "" && url.password === "";
  if (!fine) throw new TypeError(`edgeUrl must be an http(s) URL (a base URL: no credentials, query or fragment), got '${String(raw)}'`);
  return trimmed;
}
