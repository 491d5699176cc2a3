/**
 * RFC 8785 JSON Canonicalization Scheme (JCS). Audit entries and tree heads are hashed and signed
 * over these bytes, and `kakunin audit verify` recomputes them offline, so the output must be
 * byte-identical on every runtime (workerd, browsers, Node) and with any other JCS implementation.
 *
 * We serialize JavaScript values directly rather than parsing JSON text: the input is already
 * I-JSON-shaped data built by our own code. Everything that has no exact JSON form is refused
 * with a TypeError instead of being silently dropped or rewritten the way JSON.stringify would
 * (undefined members vanish, NaN becomes null, Dates call toJSON) — a silent rewrite would make
 * the hashed document differ from the one the caller thinks it logged.
 */

const encoder = new TextEncoder();

// With the `u` flag a well-formed surrogate pair is one code point, so only lone halves match.
const LONE_SURROGATE = /\p{Cs}/u;

/** RFC 8785 canonical JSON text of `value`. Throws TypeError for anything outside I-JSON. */
export function canonicalize(value: unknown): string {
  return serialize(value, "$", new Set());
}

/** The UTF-8 bytes of {@link canonicalize} — what gets hashed or signed (RFC 8785 §3.2.4). */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}

function serialize(value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case "string":
      return serializeString(value, path);
    case "number":
      // §3.2.2.3: ECMAScript Number-to-String; JSON.stringify of a finite number is exactly that
      // (including -0 → "0"). Non-finite values have no JSON form (I-JSON).
      if (!Number.isFinite(value)) throw new TypeError(`${path}: ${String(value)} is not representable in JSON`);
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      return serializeContainer(value, path, ancestors);
    default:
      // undefined, bigint, symbol, function: no JSON form. BigInt in particular must not be
      // guessed at — I-JSON numbers are IEEE-754 doubles; large integers belong in strings.
      throw new TypeError(`${path}: ${typeof value} is not a JSON value`);
  }
}

function serializeString(s: string, path: string): string {
  // I-JSON (RFC 7493 §2.1, required by RFC 8785 §3.1) forbids lone surrogates; UTF-8 encoding
  // would also turn them into U+FFFD, letting two different strings hash the same.
  if (LONE_SURROGATE.test(s)) throw new TypeError(`${path}: string contains a lone surrogate`);
  // §3.2.2.2: JSON.stringify escapes exactly \" \\ \b \f \n \r \t, other C0 controls as
  // lowercase \u00xx, and leaves everything else (including "/" and non-ASCII) literal.
  return JSON.stringify(s);
}

function serializeContainer(value: object, path: string, ancestors: Set<object>): string {
  if (ancestors.has(value)) throw new TypeError(`${path}: cyclic structure`);
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const parts: string[] = [];
      for (let i = 0; i < value.length; i++) {
        // Holes read as undefined and are refused like any other undefined.
        parts.push(serialize(value[i] as unknown, `${path}[${i}]`, ancestors));
      }
      return `[${parts.join(",")}]`;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      // Date, Map, typed arrays, class instances: JSON.stringify would emit toJSON() output or
      // "{}", neither of which is what the caller can see in the object. Convert explicitly.
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      throw new TypeError(`${path}: ${typeof name === "string" ? name : "non-plain object"} is not a plain JSON object`);
    }
    const record = value as Record<string, unknown>;
    // §3.2.3: sort member names by their UTF-16 code units. `<` on strings compares code
    // units, not code points or locale order — exactly what the RFC asks for.
    const keys = Object.keys(record).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const parts: string[] = [];
    for (const key of keys) {
      const member = `${path}.${key}`;
      parts.push(`${serializeString(key, member)}:${serialize(record[key], member, ancestors)}`);
    }
    return `{${parts.join(",")}}`;
  } finally {
    ancestors.delete(value);
  }
}
