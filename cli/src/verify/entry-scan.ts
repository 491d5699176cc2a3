/**
 * Reads the members of a kakunin-evidence/3 audit entry that the checks use straight from the
 * entry's bytes in the file, without JSON.parse (which builds every member of the entry and was
 * most of the verifier's time: docs/evidence-format.md, "Size and memory").
 *
 * What it extracts, and nothing else: the top-level members `v, log, index, kind, at, agent_id,
 * prev, agent_seq, agent_prev, lifecycle_count, lifecycle_prev`, and of `data` the members
 * `event` (its `event_id` and `timestamp`), `received_at`, `serial_number`, `revoked_at`. Every
 * extracted value equals what JSON.parse gives for it: plain ASCII strings and small integers are
 * read directly, anything else (escapes, non-ASCII, fractions, exponents, nested values of a
 * member the checks read as a scalar) is handed to JSON.parse on its own few bytes.
 *
 * The walk is a full structural one: every string is skipped by its quotes and backslash escapes
 * (so a payload string holding `"kind":"x"` or `\"` is a string, not members), containers are
 * skipped by depth without recursion (any nesting, constant stack), and members are recognised
 * only at their own level. Whatever it cannot read with certainty it refuses (UNSURE): whitespace
 * or anything else outside the canonical grammar at the levels it reads, a member it reads given
 * twice (JSON.parse keeps the last copy; canonical text never repeats one), a value JSON.parse
 * rejects. The caller then falls back to the JSON.parse verifier for the whole bundle.
 *
 * Why that is enough (the argument the fast path rests on, fast-verify.ts): its result is used
 * only when the whole bundle verifies, i.e. every entry's bytes hash into the tree whose root the
 * tenant's audit certificate signed. Such bytes are the origin's RFC 8785 text of an entry, which
 * this walk reads exactly as JSON.parse does; any other bytes fail the multiproof and the bundle
 * is verified again, by the reference path, whose report is the one given.
 */

/** The element ends past the bytes read so far: read more and scan it again. */
export const INCOMPLETE = -1;
/** Not something this scanner reads with certainty: verify with JSON.parse instead. */
export const UNSURE = -2;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

const dec = new TextDecoder("utf-8", { fatal: true });

/** Set by skipString: the last string skipped held a backslash escape. */
let escaped = false;

/** Index just past the string whose opening quote is at `i`, or INCOMPLETE. */
function skipString(b: Uint8Array, i: number, n: number): number {
  escaped = false;
  i++;
  for (;;) {
    let c = 0;
    while (i < n) {
      c = b[i]!;
      if (c === QUOTE || c === BACKSLASH) break;
      i++;
    }
    if (i >= n) return INCOMPLETE;
    if (c === QUOTE) return i + 1;
    // A backslash and the character it escapes (\uXXXX: its hex digits are plain bytes).
    escaped = true;
    i += 2;
  }
}

/** Bytes a number or a literal (true, false, null) is made of. */
function isAtomByte(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x45;
}

/** Index just past the JSON value starting at `i`, INCOMPLETE, or UNSURE. Containers: by depth, no recursion. */
export function skipValue(b: Uint8Array, i: number, n: number): number {
  if (i >= n) return INCOMPLETE;
  const first = b[i]!;
  if (first === QUOTE) return skipString(b, i, n);
  if (first === LBRACE || first === LBRACKET) {
    let depth = 0;
    while (i < n) {
      const c = b[i]!;
      if (c === QUOTE) {
        i = skipString(b, i, n);
        if (i < 0) return i;
        continue;
      }
      if (c === LBRACE || c === LBRACKET) depth++;
      else if (c === RBRACE || c === RBRACKET) {
        if (--depth === 0) return i + 1;
      }
      i++;
    }
    return INCOMPLETE;
  }
  const start = i;
  while (i < n && isAtomByte(b[i]!)) i++;
  if (i === start) return UNSURE;
  // A number may go on in the next chunk; the byte after it decides.
  return i >= n ? INCOMPLETE : i;
}

const FAILED = Symbol("unreadable");

/** JSON.parse of the bytes [s, e) as UTF-8 (fatal: malformed UTF-8 is refused, not replaced). */
export function decodeJson(b: Uint8Array, s: number, e: number): unknown {
  try {
    return JSON.parse(dec.decode(b.subarray(s, e)));
  } catch {
    return FAILED;
  }
}

/**
 * The members the checks read. A member the entry does not have stays undefined (JSON.parse
 * never gives undefined, so undefined means absent). The checks read this as the entry.
 */
export class EntryFields {
  v: unknown = undefined;
  log: unknown = undefined;
  index: unknown = undefined;
  kind: unknown = undefined;
  at: unknown = undefined;
  agent_id: unknown = undefined;
  prev: unknown = undefined;
  agent_seq: unknown = undefined;
  agent_prev: unknown = undefined;
  lifecycle_count: unknown = undefined;
  lifecycle_prev: unknown = undefined;
  data: unknown = undefined;
  [key: string]: unknown;
}

/** `data` (and its `event`): the members the validity check reads. */
class DataFields {
  event: unknown = undefined;
  received_at: unknown = undefined;
  serial_number: unknown = undefined;
  revoked_at: unknown = undefined;
  [key: string]: unknown;
}
class EventFields {
  event_id: unknown = undefined;
  timestamp: unknown = undefined;
  [key: string]: unknown;
}

/**
 * The bytes being scanned as a one-byte string (byte j is code unit j): a value in printable
 * ASCII is a substring of it, one string per chunk instead of one decoding per value.
 */
let text = "";

/** The value [s, e) as JSON.parse reads it (FAILED when it does not); plain cases without it. */
function jsonValueAt(b: Uint8Array, s: number, e: number, hasEscape: boolean): unknown {
  const c = b[s]!;
  if (c === QUOTE) {
    if (!hasEscape) {
      // Bytes ≥ 0x80 (UTF-8) or < 0x20 (not allowed raw in JSON): decoded by JSON.parse below.
      let j = s + 1;
      while (j < e - 1) {
        const x = b[j]!;
        if (x >= 0x80 || x < 0x20) break;
        j++;
      }
      if (j === e - 1) return text.substring(s + 1, e - 1);
    }
  } else if (c >= 0x30 && c <= 0x39 && e - s <= 15 && (c !== 0x30 || e - s === 1)) {
    let v = 0;
    let j = s;
    for (; j < e; j++) {
      const d = b[j]! - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (j === e) return v;
  } else if (c === 0x6e && e - s === 4 && b[s + 1] === 0x75 && b[s + 2] === 0x6c && b[s + 3] === 0x6c) return null;
  return decodeJson(b, s, e);
}

/** Whether the member name [s, e) is exactly `name` (ASCII). */
function is(b: Uint8Array, s: number, e: number, name: string): boolean {
  if (e - s !== name.length) return false;
  for (let j = 0; j < name.length; j++) if (b[s + j] !== name.charCodeAt(j)) return false;
  return true;
}

const TOP = ["v", "log", "index", "kind", "at", "agent_id", "prev", "agent_seq", "agent_prev", "lifecycle_count", "lifecycle_prev", "data"];
const DATA = ["event", "received_at", "serial_number", "revoked_at"];
const EVENT = ["event_id", "timestamp"];
const UNKNOWN = -1;
/** names by (length, first byte): the indices of the names that could match. */
const byLengthAndFirst = (names: readonly string[]): (number[] | undefined)[] => {
  const out: (number[] | undefined)[] = new Array<number[] | undefined>(16 * 128).fill(undefined);
  names.forEach((name, k) => (out[name.length * 128 + name.charCodeAt(0)] ??= []).push(k));
  return out;
};
const TOP_BY = byLengthAndFirst(TOP);
const DATA_BY = byLengthAndFirst(DATA);
const EVENT_BY = byLengthAndFirst(EVENT);
const TOP_DATA = TOP.indexOf("data");
const DATA_EVENT = DATA.indexOf("event");

/** out[names[k]] = v, as named stores (a computed key per member costs more than the scan of its bytes). */
function store(out: Record<string, unknown>, level: number, k: number, v: unknown): void {
  if (level === 0) {
    const e = out as EntryFields;
    switch (k) {
      case 0:
        e.v = v;
        break;
      case 1:
        e.log = v;
        break;
      case 2:
        e.index = v;
        break;
      case 3:
        e.kind = v;
        break;
      case 4:
        e.at = v;
        break;
      case 5:
        e.agent_id = v;
        break;
      case 6:
        e.prev = v;
        break;
      case 7:
        e.agent_seq = v;
        break;
      case 8:
        e.agent_prev = v;
        break;
      case 9:
        e.lifecycle_count = v;
        break;
      case 10:
        e.lifecycle_prev = v;
        break;
      default:
        e.data = v;
    }
  } else if (level === 1) {
    const d = out as DataFields;
    switch (k) {
      case 0:
        d.event = v;
        break;
      case 1:
        d.received_at = v;
        break;
      case 2:
        d.serial_number = v;
        break;
      default:
        d.revoked_at = v;
    }
  } else if (k === 0) (out as EventFields).event_id = v;
  else (out as EventFields).timestamp = v;
}

/** Which of `names` the member name [s, e) is, UNKNOWN, or UNSURE (an escaped name that does not decode). */
function memberId(b: Uint8Array, s: number, e: number, names: readonly string[]): number {
  if (escaped) {
    // An escaped name (`"\u006bind"` is "kind" to JSON.parse): decode it exactly.
    const key = decodeJson(b, s - 1, e + 1);
    return typeof key === "string" ? names.indexOf(key) : UNSURE;
  }
  const len = e - s;
  if (len > 15) return UNKNOWN;
  // Candidates by length and first byte, then an exact comparison.
  const ks = (names === TOP ? TOP_BY : names === DATA ? DATA_BY : EVENT_BY)[len * 128 + (b[s]! & 0x7f)];
  if (ks === undefined) return UNKNOWN;
  for (const k of ks) if (is(b, s, e, names[k]!)) return k;
  return UNKNOWN;
}

/**
 * Reads the object at `i` (b[i] is `{`) at `level` (0 the entry, 1 its data, 2 data.event) into
 * `out`. Returns the index past its `}`, INCOMPLETE or UNSURE.
 */
function readObject(b: Uint8Array, i: number, n: number, level: number, out: Record<string, unknown>): number {
  const names = level === 0 ? TOP : level === 1 ? DATA : EVENT;
  i++;
  if (i >= n) return INCOMPLETE;
  if (b[i] === RBRACE) return i + 1;
  let seen = 0;
  for (;;) {
    if (b[i] !== QUOTE) return UNSURE;
    const ks = i + 1;
    i = skipString(b, i, n);
    if (i < 0) return i;
    const k = memberId(b, ks, i - 1, names);
    if (k === UNSURE) return UNSURE;
    if (i >= n) return INCOMPLETE;
    if (b[i] !== COLON) return UNSURE;
    const vs = ++i;
    if (k >= 0) {
      // JSON.parse keeps the last copy of a repeated member; canonical text has none: refuse.
      if (seen & (1 << k)) return UNSURE;
      seen |= 1 << k;
      if (vs < n && b[vs] === LBRACE && ((level === 0 && k === TOP_DATA) || (level === 1 && k === DATA_EVENT))) {
        const inner = level === 0 ? new DataFields() : new EventFields();
        store(out, level, k, inner);
        i = readObject(b, vs, n, level + 1, inner);
        if (i < 0) return i;
      } else {
        i = skipValue(b, vs, n);
        if (i < 0) return i;
        const v = jsonValueAt(b, vs, i, escaped);
        if (v === FAILED) return UNSURE;
        store(out, level, k, v);
      }
    } else {
      i = skipValue(b, vs, n);
      if (i < 0) return i;
    }
    if (i >= n) return INCOMPLETE;
    const c = b[i]!;
    if (c === RBRACE) return i + 1;
    if (c !== COMMA) return UNSURE;
    i++;
    if (i >= n) return INCOMPLETE;
  }
}

/**
 * Scans the audit entry whose `{` is at `start` in b[0, n) into `entry`; `latin1` is b[0, n) as
 * a one-byte string (the caller makes it once per chunk). Returns the entry's end (index past
 * `}`), INCOMPLETE or UNSURE. Never throws, never loops: every step advances.
 */
export function scanEntry(b: Uint8Array, start: number, n: number, entry: EntryFields, latin1: string): number {
  text = latin1;
  const end = readObject(b, start, n, 0, entry);
  text = "";
  return end;
}
