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

/**
 * Where in the input a value sits, for error messages only: a linked list built as the walk
 * descends and turned into "$.data.event[2]" only when something is refused. Building the path
 * string eagerly for every member was most of the cost of canonicalising an audit entry.
 */
interface At {
  up: At | null;
  key: string | number;
}

function pathOf(at: At | null): string {
  let out = "";
  for (let a = at; a; a = a.up) out = (typeof a.key === "number" ? `[${a.key}]` : `.${a.key}`) + out;
  return `$${out}`;
}

/** RFC 8785 canonical JSON text of `value`. Throws TypeError for anything outside I-JSON. */
export function canonicalize(value: unknown): string {
  const sorted = sortedCopy(value, 0);
  // The fast path: a copy whose objects hold their members in RFC 8785 order, serialised by the
  // engine's JSON.stringify (the same escaping and number form the walk below uses, member by member).
  if (sorted !== BAIL) return JSON.stringify(sorted);
  return serialize(value, null, new Set());
}

/**
 * The general walk alone: the definition {@link canonicalize}'s fast path must match byte for byte
 * (origin/test/canonical.test.ts compares them over generated values), and where every refusal's
 * message comes from.
 */
export function canonicalizeByWalk(value: unknown): string {
  return serialize(value, null, new Set());
}

const BAIL: unique symbol = Symbol("bail");
// Deeper than this, or cyclic (which never ends), the walk decides: it names the cycle.
const MAX_FAST_DEPTH = 256;

/**
 * A copy of `value` with every object's members inserted in RFC 8785 order (UTF-16 code units),
 * so JSON.stringify emits them in that order, or BAIL for anything where JSON.stringify's output
 * could differ from the walk's or where the walk refuses the input:
 * - member names that start with a digit: engines enumerate array-index names ("1", "10") first,
 *   in numeric order, whatever the insertion order ("10" sorts before "9" in RFC 8785);
 * - `__proto__` (assigning it would set the copy's prototype, not add a member);
 * - lone surrogates (JSON.stringify escapes them as \udXXX, I-JSON refuses them), non-finite
 *   numbers, undefined, bigint, functions, symbols, non-plain objects, holes, cycles.
 * In all of those the general walk runs instead and produces the output or the TypeError.
 */
function sortedCopy(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case "string":
      return wellFormed(value) ? value : BAIL;
    case "number":
      return Number.isFinite(value) ? value : BAIL;
    case "boolean":
      return value;
    case "object": {
      if (value === null) return null;
      if (depth > MAX_FAST_DEPTH) return BAIL;
      if (Array.isArray(value)) {
        const out: unknown[] = new Array<unknown>(value.length);
        for (let i = 0; i < value.length; i++) {
          const v = sortedCopy(value[i] as unknown, depth + 1);
          if (v === BAIL) return BAIL;
          out[i] = v;
        }
        return out;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return BAIL;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const c = key.charCodeAt(0);
        if ((c >= 48 && c <= 57) || key === "__proto__" || !wellFormed(key)) return BAIL;
        const v = sortedCopy(record[key], depth + 1);
        if (v === BAIL) return BAIL;
        out[key] = v;
      }
      return out;
    }
    default:
      return BAIL;
  }
}

/** The UTF-8 bytes of {@link canonicalize} — what gets hashed or signed (RFC 8785 §3.2.4). */
export function canonicalBytes(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}

function serialize(value: unknown, at: At | null, ancestors: Set<object>): string {
  switch (typeof value) {
    case "string":
      return serializeString(value, at);
    case "number":
      // §3.2.2.3: ECMAScript Number-to-String; JSON.stringify of a finite number is exactly that
      // (including -0 → "0"). Non-finite values have no JSON form (I-JSON).
      if (!Number.isFinite(value)) throw new TypeError(`${pathOf(at)}: ${String(value)} is not representable in JSON`);
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "object":
      if (value === null) return "null";
      return serializeContainer(value, at, ancestors);
    default:
      // undefined, bigint, symbol, function: no JSON form. BigInt in particular must not be
      // guessed at — I-JSON numbers are IEEE-754 doubles; large integers belong in strings.
      throw new TypeError(`${pathOf(at)}: ${typeof value} is not a JSON value`);
  }
}

// String.prototype.isWellFormed (ES2024) where the runtime has it: no regex per string.
const wellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function"
    ? (s) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (s) => !LONE_SURROGATE.test(s);

function serializeString(s: string, at: At | null): string {
  // I-JSON (RFC 7493 §2.1, required by RFC 8785 §3.1) forbids lone surrogates; UTF-8 encoding
  // would also turn them into U+FFFD, letting two different strings hash the same.
  if (!wellFormed(s)) throw new TypeError(`${pathOf(at)}: string contains a lone surrogate`);
  // §3.2.2.2: JSON.stringify escapes exactly \" \\ \b \f \n \r \t, other C0 controls as
  // lowercase \u00xx, and leaves everything else (including "/" and non-ASCII) literal.
  return JSON.stringify(s);
}

function serializeContainer(value: object, at: At | null, ancestors: Set<object>): string {
  if (ancestors.has(value)) throw new TypeError(`${pathOf(at)}: cyclic structure`);
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      let out = "[";
      for (let i = 0; i < value.length; i++) {
        // Holes read as undefined and are refused like any other undefined.
        out += (i ? "," : "") + serialize(value[i] as unknown, { up: at, key: i }, ancestors);
      }
      return `${out}]`;
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      // Date, Map, typed arrays, class instances: JSON.stringify would emit toJSON() output or
      // "{}", neither of which is what the caller can see in the object. Convert explicitly.
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      throw new TypeError(`${pathOf(at)}: ${typeof name === "string" ? name : "non-plain object"} is not a plain JSON object`);
    }
    const record = value as Record<string, unknown>;
    // §3.2.3: sort member names by their UTF-16 code units. The default sort order compares
    // strings by UTF-16 code units, not code points or locale order — exactly what the RFC asks for.
    const keys = Object.keys(record).sort();
    let out = "{";
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const member: At = { up: at, key };
      out += `${i ? "," : ""}${serializeString(key, member)}:${serialize(record[key], member, ancestors)}`;
    }
    return `${out}}`;
  } finally {
    ancestors.delete(value);
  }
}
