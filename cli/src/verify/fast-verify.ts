/**
 * The fast path of `kakunin audit verify` for a kakunin-evidence/3 file (issue 16 goal 6): the
 * file is read as bytes in large chunks, each audit entry's leaf is hashed straight from the read
 * buffer (no string, no copy), and the members the checks need are read by the field scanner
 * (entry-scan.ts) instead of JSON.parse. Everything else is the reference verifier itself: the
 * header and whatever follows `entries` go through json-stream.ts's bundleParts, and every check
 * (EntryCheckerV3, CompletenessTracker, ValidityTracker…) is the same code, fed the same values.
 *
 * It only ever confirms. Its report is returned only when every check passed; on anything else —
 * a failed check, an element or a byte sequence the scanner does not read with certainty, a
 * version 2 bundle, an I/O error — it returns null and the caller verifies the file again with
 * the reference path (JSON.parse per entry), whose report is the one the user sees. So a failing
 * bundle gets exactly the reference report, and a passing one is one whose every entry hashes into
 * the tree the tenant's audit certificate signed: bytes the origin wrote as RFC 8785 text, which
 * the scanner reads exactly as JSON.parse does (entry-scan.ts). Memory: one chunk, or the largest
 * element if it is larger, plus the checks' own state.
 */
import { hash } from "node:crypto";
import { closeSync, openSync, readSync } from "node:fs";
import { FastPathBail } from "./fast-bail.ts";
import { decodeJson, EntryFields, INCOMPLETE, scanEntry, skipValue, UNSURE } from "./entry-scan.ts";
import { bundleParts, type BundlePart, type ScannedItem } from "./json-stream.ts";
import { FACT_KINDS } from "./signed-facts.ts";
import { EXPORT_CHECKPOINT_KIND } from "@kakunin/shared";
import type { VerifyOptions, VerifyReport } from "./types.ts";

const CHUNK = 4 << 20;
/** A header (everything before `entries`) larger than this is left to the reference path. */
const MAX_HEADER = 64 << 20;
/** Elements handed to the checks at a time (one await per batch, not per entry). */
const BATCH = 512;
const WS = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The file in one growing buffer. Live bytes always start at offset ≥ 1: the byte before an
 * element is overwritten with 0x00 for the time of its leaf hash (SHA-256(0x00 || bytes) without
 * copying the bytes) and restored.
 */
class ByteSource {
  buf: Buffer;
  n = 1;
  eof = false;
  #text: string | null = null;
  /** buf[0, n) as a one-byte string (entry-scan.ts takes ASCII values as its substrings), made once per read. */
  get text(): string {
    return (this.#text ??= this.buf.toString("latin1", 0, this.n));
  }
  readonly #fd: number;
  constructor(
    path: string,
    private readonly chunk: number,
  ) {
    this.#fd = openSync(path, "r");
    this.buf = Buffer.allocUnsafeSlow(chunk + 1);
  }

  /**
   * Reads more, keeping the bytes from `keep` on, which move to offset 1. Returns how far offsets
   * moved (subtract it), or -1 at the end of the file. Reads at least CHUNK, and the whole free
   * buffer, so an element larger than a chunk costs O(its size) rescans in all (the buffer doubles).
   */
  more(keep: number): number {
    if (this.eof) return -1;
    this.#text = null;
    const live = this.n - keep;
    const need = 1 + live + this.chunk;
    if (need > this.buf.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(need, 2 * this.buf.length));
      this.buf.copy(bigger, 1, keep, this.n);
      this.buf = bigger;
    } else if (keep !== 1) this.buf.copyWithin(1, keep, this.n);
    this.n = 1 + live;
    const r = readSync(this.#fd, this.buf, this.n, this.buf.length - this.n, null);
    if (r === 0) this.eof = true;
    this.n += r;
    return r === 0 ? -1 : keep - 1;
  }

  close(): void {
    closeSync(this.#fd);
  }
}

const bail = (why: string): never => {
  throw new FastPathBail(why);
};

/** Index of the next non-blank byte at or after i (reading more if needed; offsets may move: returns the source's new offsets through `at`). */
function nextByte(src: ByteSource, i: number, keep: number): { i: number; keep: number } {
  for (;;) {
    while (i < src.n && WS(src.buf[i]!)) i++;
    if (i < src.n) return { i, keep };
    const moved = src.more(keep);
    if (moved < 0) bail("the file ends early");
    i -= moved;
    keep -= moved;
  }
}

/** Index past the JSON value at i, reading more (keeping the header from offset 1) as needed. */
function headerValue(src: ByteSource, i: number): number {
  for (;;) {
    const end = skipValue(src.buf, i, src.n);
    if (end === UNSURE) bail("a header value it does not read");
    if (end !== INCOMPLETE) return end;
    if (src.n > MAX_HEADER || src.more(1) < 0) bail("header too large or cut short");
  }
}

/**
 * Finds `[` of the bundle's `entries` exactly as bundleParts does (the saved response
 * `{"data": bundle}` or the bare bundle; the first member "entries" whose value is an array).
 * Returns its offset; the header is then buf[1, that offset].
 */
function locateEntries(src: ByteSource): number {
  const key = (i: number): { name: string; at: number } => {
    ({ i } = nextByte(src, i, 1));
    if (src.buf[i] !== 0x22) bail("a member name expected");
    const end = headerValue(src, i);
    const name = JSON.parse(utf8.decode(src.buf.subarray(i, end))) as string;
    let at = nextByte(src, end, 1).i;
    if (src.buf[at] !== 0x3a) bail("':' expected");
    at = nextByte(src, at + 1, 1).i;
    return { name, at };
  };
  let i = nextByte(src, 1, 1).i;
  if (src.buf[i] !== 0x7b) bail("not an object");
  let k = key(i + 1);
  if (k.name === "data" && src.buf[k.at] === 0x7b) k = key(k.at + 1);
  for (;;) {
    if (k.name === "entries" && src.buf[k.at] === 0x5b) return k.at;
    i = nextByte(src, headerValue(src, k.at), 1).i;
    if (src.buf[i] !== 0x2c) bail("no entries array");
    k = key(i + 1);
  }
}

/**
 * The elements of `entries` from offset `i` (just past `[`), in batches: audit entries scanned
 * and hashed, proof strings decoded. Leaves `src` positioned past the closing `]` (returned).
 */
async function* elements(src: ByteSource, i: number, end: { at: number }): AsyncGenerator<BundlePart> {
  let items: ScannedItem[] = [];
  let first = true;
  for (;;) {
    // One element and the separator after it; when the bytes run out, read more and redo it whole.
    let keep = i;
    // Blanks between elements are rare (none in an exported bundle): only then the general path.
    if (i >= src.n || WS(src.buf[i]!)) ({ i, keep } = nextByte(src, i, keep));
    const b = src.buf;
    const n = src.n;
    const c = b[i]!;
    if (first && c === 0x5d) {
      end.at = i + 1;
      break;
    }
    let stop: number;
    let item: ScannedItem;
    if (c === 0x7b) {
      const entry = new EntryFields();
      stop = scanEntry(b, i, n, entry, src.text);
      if (stop === UNSURE) bail("an entry the scanner does not read with certainty");
      if (stop !== INCOMPLETE) {
        // SHA-256(0x00 || the entry's bytes as in the file), hashed in place.
        const before = b[i - 1]!;
        b[i - 1] = 0;
        const leaf = hash("sha256", b.subarray(i - 1, stop), "hex");
        b[i - 1] = before;
        item = { entry: typeof entry.kind === "string" && WHOLE_KINDS.has(entry.kind) ? wholeEntry(b, i, stop) : entry, leaf };
      } else item = { nodes: "" };
    } else if (c === 0x22) {
      stop = skipValue(b, i, n);
      item = { nodes: stop < 0 ? "" : (JSON.parse(utf8.decode(b.subarray(i, stop))) as string) };
    } else bail("an element that is neither an entry nor a proof string");
    let sep = stop! < 0 ? n : stop!;
    while (sep < n && WS(b[sep]!)) sep++;
    if (stop! === INCOMPLETE || sep >= n) {
      const moved = src.more(keep);
      if (moved < 0) bail("the file ends inside entries");
      i = keep - moved;
      continue;
    }
    items.push(item!);
    first = false;
    if (items.length >= BATCH) {
      yield { type: "scanned", items };
      items = [];
    }
    const s = b[sep];
    i = sep + 1;
    if (s === 0x5d) {
      end.at = i;
      break;
    }
    if (s !== 0x2c) bail("',' or ']' expected between elements");
  }
  if (items.length) yield { type: "scanned", items };
}

/** Entries read whole: the header check's, and export checkpoints (completeness reads their data.window). */
const WHOLE_KINDS: ReadonlySet<string> = new Set([...FACT_KINDS, EXPORT_CHECKPOINT_KIND]);

/**
 * The few entries whose `data` the header check reads (agent and certificate lifecycle), parsed
 * whole: the scanner reads only the members the other checks use.
 */
function wholeEntry(b: Uint8Array, start: number, end: number): Record<string, unknown> {
  const v = decodeJson(b, start, end);
  if (!v || typeof v !== "object" || Array.isArray(v)) bail("a lifecycle entry that does not parse");
  return v as Record<string, unknown>;
}

/** What follows the entries array, as text, for bundleParts (archive pointers, the envelope's end). */
async function* tail(src: ByteSource, from: number): AsyncGenerator<string> {
  const dec = new TextDecoder("utf-8", { fatal: true });
  let text = dec.decode(src.buf.subarray(from, src.n), { stream: true });
  if (text) yield text;
  while (src.more(src.n) >= 0) {
    text = dec.decode(src.buf.subarray(1, src.n), { stream: true });
    if (text) yield text;
  }
  text = dec.decode();
  if (text) yield text;
}

/**
 * The bundle's parts as bundleParts gives them, except that `entries` comes as "scanned" batches.
 * bundleParts reads the header text followed by `]` (an empty entries array), then the tail.
 */
async function* fastParts(src: ByteSource, bracket: number): AsyncGenerator<BundlePart> {
  let header: string;
  try {
    header = utf8.decode(src.buf.subarray(1, bracket + 1));
  } catch {
    return bail("the header is not UTF-8");
  }
  const end = { at: -1 };
  const text = async function* (): AsyncGenerator<string> {
    yield `${header}]`;
    if (end.at < 0) bail("read past the header before the entries");
    yield* tail(src, end.at);
  };
  let injected = false;
  for await (const p of bundleParts(text())) {
    if (p.type === "entry") bail("the reference reader found entries the byte reader did not");
    yield p;
    if (p.type === "entries-start") {
      if (injected) bail("two entries arrays");
      injected = true;
      yield* elements(src, bracket + 1, end);
      if (end.at < 0) bail("entries not closed");
    }
  }
  if (!injected) bail("no entries array");
}

/** The fast path's outcome with the reason it gave up (tests, and KAKUNIN_VERIFY_DEBUG). */
export async function fastAttempt(path: string, opts: VerifyOptions, chunk = CHUNK): Promise<{ report: VerifyReport } | { fallback: string }> {
  let src: ByteSource;
  try {
    src = new ByteSource(path, chunk);
  } catch (e) {
    return { fallback: `cannot open: ${String(e)}` };
  }
  try {
    const bracket = locateEntries(src);
    const { verifyParts } = await import("./index.ts");
    const report = await verifyParts(fastParts(src, bracket), opts, { fast: true });
    return report.ok ? { report } : { fallback: "a check failed" };
  } catch (e) {
    // Whatever went wrong (a bail, a syntax error, an I/O error): the reference path decides and reports.
    return { fallback: e instanceof Error ? e.message : String(e) };
  } finally {
    src.close();
  }
}
