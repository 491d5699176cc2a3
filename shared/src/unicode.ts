import { tooDeepPathInText } from "./json-depth-scan.ts";

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
 * Deepest nesting of objects and arrays a JSON request body may have (the body itself is level 1;
 * an event's `attributes` sit at level 3 or 4). JSON.parse copes with any depth, but every walk
 * after it (these checks, zod, canonical JSON, JSON.stringify on the way to the origin) recurses,
 * and a body nested a few thousand levels deep overflowed the stack: a 500 at the origin before
 * authentication, and an event the edge had acknowledged that the origin could never store. One
 * limit, checked first and without recursion, wherever a JSON body enters.
 */
export const MAX_JSON_DEPTH = 64;

type JsonPath = (string | number)[];

/** Children of a JSON container in document order, or none for a scalar. */
function children(v: unknown): [string | number, unknown][] {
  if (Array.isArray(v)) return v.map((x, i) => [i, x]);
  if (typeof v === "object" && v !== null) return Object.entries(v);
  return [];
}

/**
 * Visits every value of a JSON document in document order (depth first, pre-order) without
 * recursion, so no document can overflow the stack that walks it. `visit` returns false to stop.
 */
function walkJson(value: unknown, visit: (v: unknown, path: JsonPath, key: string | number | undefined) => boolean): void {
  const stack: { v: unknown; path: JsonPath; key: string | number | undefined }[] = [{ v: value, path: [], key: undefined }];
  while (stack.length) {
    const { v, path, key } = stack.pop()!;
    if (!visit(v, path, key)) return;
    const kids = children(v);
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ v: kids[i]![1], path: [...path, kids[i]![0]], key: kids[i]![0] });
  }
}

/** The path of the first object or array nested deeper than `max` levels, if any. */
export function tooDeepPath(value: unknown, max = MAX_JSON_DEPTH): JsonPath | undefined {
  let found: JsonPath | undefined;
  walkJson(value, (v, path) => {
    if (typeof v !== "object" || v === null || path.length < max) return true;
    found = path;
    return false;
  });
  return found;
}

/** Paths of the object keys named `__proto__`, in document order (at most 50). */
function protoKeyPaths(value: unknown): JsonPath[] {
  const found: JsonPath[] = [];
  walkJson(value, (_v, path, key) => {
    if (key === "__proto__") found.push(path);
    return found.length < 50;
  });
  return found;
}

/**
 * Paths of every string in a JSON value that is not well formed: values and object keys, at any
 * depth. A key is reported by its own path (the key is part of the path, as a user reads it).
 * Stops after `limit` findings: the caller reports, it does not need them all.
 */
export function malformedUnicodePaths(value: unknown, limit = 50): JsonPath[] {
  return stringPaths(value, (s) => !isWellFormedText(s), limit);
}

/** Paths of the strings (values and keys) for which `bad` holds, in document order, at most `limit`. */
function stringPaths(value: unknown, bad: (s: string) => boolean, limit: number): JsonPath[] {
  const found: JsonPath[] = [];
  walkJson(value, (v, path, key) => {
    if (typeof key === "string" && bad(key)) found.push(path);
    if (typeof v === "string" && bad(v) && found.at(-1) !== path) found.push(path);
    return found.length < limit;
  });
  return found.slice(0, limit);
}

/** A zod `superRefine` body: one issue per malformed string, at its path. Reused by every schema. */
export function refineWellFormed(value: unknown, ctx: { addIssue(issue: { code: "custom"; message: string; path: (string | number)[] }): void }): void {
  for (const path of malformedUnicodePaths(value)) ctx.addIssue({ code: "custom", message: MALFORMED_UNICODE_MESSAGE, path });
}

/**
 * `s` cut to at most `max` characters (code points, as zod's string limits count them), ending in
 * "…" when cut; never splits a surrogate pair. For text the origin composes or stored under an
 * older limit that must still pass a schema downstream (a revocation must never be refused for
 * its reason).
 */
export function clampText(s: string, max: number): string {
  const chars = Array.from(s);
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join("")}…`;
}

/** The first `max` code points of `s` (a key cut to length; never half a surrogate pair). */
export function cutCodePoints(s: string, max: number): string {
  return s.length <= max ? s : Array.from(s).slice(0, max).join("");
}

const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");

/** `s` with every lone surrogate replaced by U+FFFD (String.prototype.toWellFormed, for any target). */
export function wellFormed(s: string): string {
  return s.replace(LONE_SURROGATES, "\uFFFD");
}

const encoder = new TextEncoder();

/** UTF-8 size of a string: what a byte limit on the wire or in storage counts (not `.length`). */
export function utf8Length(s: string): number {
  return encoder.encode(s).byteLength;
}

export type JsonBodyResult =
  | { ok: true; value: unknown }
  | { ok: false; reason: "malformed-json"; detail: string }
  | { ok: false; reason: "refused-fields"; detail: string; errors: { path: string; message: string }[] };

const dotted = (p: JsonPath) => p.map(String).join(".") || "(body)";

/** The refusal of a body nested deeper than MAX_JSON_DEPTH, naming the first such path. */
function tooDeep(path: JsonPath): JsonBodyResult {
  const message = `objects and arrays nested more than ${MAX_JSON_DEPTH} levels deep`;
  return {
    ok: false,
    reason: "refused-fields",
    detail: `The request body is nested more than ${MAX_JSON_DEPTH} levels deep; nothing was accepted`,
    errors: [{ path: dotted(path), message }],
  };
}

/**
 * Decodes and parses a JSON request body, refusing what cannot be stored as sent: bytes that are
 * not UTF-8 (a lenient decoder would replace them with U+FFFD, changing the data silently),
 * escaped lone surrogates, and nesting deeper than MAX_JSON_DEPTH. For bad bytes the paths are the
 * strings that came out holding U+FFFD. Refused fields are a 422 naming them.
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
  // Depth from the bytes first: JSON.parse of a body nested up to the size limit takes a second
  // (json-depth-scan.ts). The same answer as the check after parsing, without the parse.
  const deepInText = tooDeepPathInText(bytes, MAX_JSON_DEPTH);
  if (deepInText) return tooDeep(deepInText);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, reason: "malformed-json", detail: badBytes ? "The body is not valid UTF-8 JSON." : "The body is not valid JSON." };
  }
  // Depth first: the other checks walk the value, and so does everything after them.
  const deep = tooDeepPath(value);
  if (deep) return tooDeep(deep);
  // A key named __proto__ is an own property after JSON.parse but vanishes (or worse, becomes the
  // prototype) once code copies the object: zod's record drops it, so `{"weights":{"__proto__":1}}`
  // was accepted and audited as a change that changed nothing. Refused, as Fastify's parser does.
  const proto = protoKeyPaths(value);
  if (proto.length) {
    return {
      ok: false,
      reason: "refused-fields",
      detail: `${proto.length} key(s) named __proto__; nothing was accepted`,
      errors: proto.map((p) => ({ path: dotted(p), message: "a key named __proto__ is refused" })),
    };
  }
  const unicode = (paths: JsonPath[]) => {
    const errors = paths.map((p) => ({ path: dotted(p), message: MALFORMED_UNICODE_MESSAGE }));
    return { ok: false as const, reason: "refused-fields" as const, detail: `${errors.length} field(s) with malformed Unicode; nothing was accepted`, errors };
  };
  if (badBytes) {
    const paths = stringPaths(value, (s) => s.includes("\uFFFD"), 50);
    return unicode(paths.length ? paths : [[]]);
  }
  const lone = malformedUnicodePaths(value);
  if (lone.length) return unicode(lone);
  return { ok: true, value };
}
