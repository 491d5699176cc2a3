/**
 * Well-formed Unicode, checked wherever user text enters. A JSON string may spell a lone UTF-16
 * surrogate (`"\ud800"`): JavaScript accepts it, but it has no UTF-8 encoding, so PostgreSQL refuses
 * it in json/jsonb ("invalid input syntax for type json") and a text column silently turns it into
 * U+FFFD. Accepting such a value and failing later, after a 202, is how one event jammed an agent's
 * forwarding; refusing it at the door, naming the field, is the fix.
 */

/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const MALFORMED_UNICODE_MESSAGE = "malformed Unicode (a lone UTF-16 surrogate has no UTF-8 encoding, and U+0000 cannot be stored)";

/**
 * True when the string is valid UTF-16 (it can be encoded as UTF-8 without loss) and holds no
 * U+0000, which PostgreSQL text and jsonb cannot store either ("unsupported Unicode escape sequence").
 */
export function isWellFormedText(s: string): boolean {
  return !LONE_SURROGATE.test(s) && !s.includes("\u0000");
}

/**
 * Paths of every string in a JSON value that is not well formed: values and object keys, at any
 * depth. A key is reported by its own path (the key is part of the path, as a user reads it).
 * Stops after `limit` findings: the caller reports, it does not need them all.
 */
export function malformedUnicodePaths(value: unknown, limit = 50): (string | number)[][] {
  const found: (string | number)[][] = [];
  const walk = (v: unknown, path: (string | number)[]): void => {
    if (found.length >= limit) return;
    if (typeof v === "string") {
      if (!isWellFormedText(v)) found.push(path);
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, [...path, i]));
    } else if (typeof v === "object" && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (!isWellFormedText(k)) found.push([...path, k]);
        walk(x, [...path, k]);
      }
    }
  };
  walk(value, []);
  return found;
}

/** A zod `superRefine` body: one issue per malformed string, at its path. Reused by every schema. */
export function refineWellFormed(value: unknown, ctx: { addIssue(issue: { code: "custom"; message: string; path: (string | number)[] }): void }): void {
  for (const path of malformedUnicodePaths(value)) ctx.addIssue({ code: "custom", message: MALFORMED_UNICODE_MESSAGE, path });
}

const encoder = new TextEncoder();

/** UTF-8 size of a string: what a byte limit on the wire or in storage counts (not `.length`). */
export function utf8Length(s: string): number {
  return encoder.encode(s).byteLength;
}

export type JsonBodyResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: "malformed-json"; detail: string }
  | { ok: false; reason: "malformed-unicode"; paths: string[] };

/**
 * Decodes and parses a JSON request body, refusing what cannot be stored as sent: bytes that are
 * not UTF-8 (a lenient decoder would replace them with U+FFFD, changing the data silently) and
 * escaped lone surrogates. For bad bytes the paths are the strings that came out holding U+FFFD.
 */
export function parseJsonBody(bytes: Uint8Array): JsonBodyResult {
  let text: string;
  let badBytes = false;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    badBytes = true;
    text = new TextDecoder("utf-8").decode(bytes);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "malformed-json", detail: badBytes ? "The body is not valid UTF-8 JSON." : "The body is not valid JSON." };
  }
  const dotted = (p: (string | number)[]) => p.map(String).join(".") || "(body)";
  if (badBytes) {
    const paths: string[] = [];
    const walk = (v: unknown, path: (string | number)[]): void => {
      if (typeof v === "string") {
        if (v.includes("\uFFFD")) paths.push(dotted(path));
      } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
      else if (typeof v === "object" && v !== null) {
        for (const [k, x] of Object.entries(v)) {
          if (k.includes("\uFFFD")) paths.push(dotted([...path, k]));
          walk(x, [...path, k]);
        }
      }
    };
    walk(value, []);
    return { ok: false, reason: "malformed-unicode", paths: paths.length ? paths.slice(0, 50) : ["(body)"] };
  }
  const lone = malformedUnicodePaths(value);
  if (lone.length) return { ok: false, reason: "malformed-unicode", paths: lone.map(dotted) };
  return { ok: true, value };
}
