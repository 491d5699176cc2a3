/** `application/json` and the `+json` structured-syntax types (merge-patch, problem, ...). */
export const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i;

/**
 * Charset labels whose bytes read the same as UTF-8: the label, its common misspelling `utf8`
 * (some HTTP clients send it), and ASCII, a subset. Anything else would need transcoding.
 */
const UTF8_READABLE: ReadonlySet<string> = new Set(["utf-8", "utf8", "us-ascii", "ascii"]);

/** What a 415 for an undecodable representation carries: the codings this API takes (RFC 9110 §12.5.3). */
export const IDENTITY_ONLY = { "accept-encoding": "identity" } as const;

/**
 * Why a JSON request body cannot be read as sent, or undefined when it can. Bodies are read as
 * UTF-8 JSON without a content coding: a gzip body used to fail as "not valid JSON" (400), sending
 * the client after a bug in its JSON, and a coding label on a plain body was silently ignored.
 * Both, and a charset other than UTF-8 (RFC 8259 §8.1), are a 415 (RFC 9110 §15.5.16).
 * `contentType` is the whole header; its media type is checked by the caller.
 */
export function unreadableJsonRepresentation(contentType: string | undefined, contentEncoding: string | undefined): string | undefined {
  const codings = (contentEncoding ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "" && s !== "identity");
  if (codings.length) return `Content-Encoding ${codings.join(", ")} is not supported; send the body uncompressed (identity).`;
  for (const param of (contentType ?? "").split(";").slice(1)) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const charset = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1");
    if (!UTF8_READABLE.has(charset.toLowerCase())) return `charset ${charset} is not supported; JSON is read as UTF-8.`;
  }
  return undefined;
}
