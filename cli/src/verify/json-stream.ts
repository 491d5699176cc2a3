/**
 * Reads an evidence bundle as a stream of parts, so `kakunin audit verify` holds one entry at a
 * time instead of the document (a 1M-entry bundle is gigabytes of JSON; V8 cannot even hold it as
 * one string). It understands exactly the bundle's shape: an object (bare, or the saved response
 * `{"data": bundle}`) whose members are parsed one by one with JSON.parse, except `entries`,
 * whose elements are parsed one by one. A duplicated member is refused: JSON.parse would keep the
 * last copy and a streaming reader the first, and the two must never disagree about a bundle.
 */

export type BundlePart =
  | { type: "member"; key: string; value: unknown }
  /** `raw`: the element's text exactly as in the file (streamed input only), which v3 hashes. */
  | { type: "entry"; value: unknown; raw?: string }
  | { type: "entries-start" }
  | { type: "entries-end" }
  /** Elements of `entries` read by the fast path (fast-verify.ts), in file order. */
  | { type: "scanned"; items: ScannedItem[] };

/**
 * A v3 element as the fast path hands it over: an audit entry's members the checks read and its
 * leaf (hex, hashed from the file's bytes), or a proof string.
 */
export type ScannedItem = { entry: Record<string, unknown>; leaf: string } | { nodes: string };

export class BundleSyntaxError extends Error {}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

class Scanner {
  buf = "";
  pos = 0;
  done = false;
  constructor(private readonly it: AsyncIterator<string>) {}

  /** Reads another chunk; false at the end of the input. */
  async more(): Promise<boolean> {
    if (this.done) return false;
    const r = await this.it.next();
    if (r.done) {
      this.done = true;
      return false;
    }
    // Drop what was consumed, so the buffer holds at most one value plus a chunk.
    this.buf = this.buf.slice(this.pos) + r.value;
    this.pos = 0;
    return true;
  }

  async peek(): Promise<number> {
    for (;;) {
      while (this.pos < this.buf.length && WS.has(this.buf.charCodeAt(this.pos))) this.pos++;
      if (this.pos < this.buf.length) return this.buf.charCodeAt(this.pos);
      if (!(await this.more())) throw new BundleSyntaxError("unexpected end of the document");
    }
  }

  async expect(ch: string): Promise<void> {
    const c = await this.peek();
    if (c !== ch.charCodeAt(0)) throw new BundleSyntaxError(`expected '${ch}' at offset ~${this.pos}, found '${String.fromCharCode(c)}'`);
    this.pos++;
  }

  /** The raw text of the JSON value starting at the next non-blank character. */
  async rawValue(): Promise<string> {
    const first = await this.peek();
    let offset = 0;
    let depth = 0;
    for (;;) {
      const start = this.pos;
      const end = this.scan(start + offset, depth, first);
      if (end.done) {
        this.pos = end.at;
        return this.buf.slice(start, end.at);
      }
      // Keep the scan state relative to the value's start; more() moves the value to offset 0.
      offset = end.at - start;
      depth = end.depth;
      if (!(await this.more())) {
        if (first === 0x7b || first === 0x5b || first === 0x22) throw new BundleSyntaxError("unexpected end of the document inside a value");
        this.pos = this.buf.length;
        return this.buf.slice(start);
      }
    }
  }

  /**
   * Finds the end of the value that starts with `first`, from index i at nesting `depth`. Strings
   * are skipped with indexOf, not char by char: a bundle is mostly long canonical strings.
   * Scanning resumes only at positions outside strings (after a complete token).
   */
  private scan(i: number, depth: number, first: number): { done: boolean; at: number; depth: number } {
    const s = this.buf;
    if (first !== 0x7b && first !== 0x5b && first !== 0x22) {
      // Number, true, false, null: up to the next delimiter.
      while (i < s.length && !",}] \t\r\n".includes(s[i]!)) i++;
      return { done: i < s.length, at: i, depth };
    }
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        const close = endOfString(s, i);
        if (close < 0) return { done: false, at: i, depth };
        i = close + 1;
        if (depth === 0) return { done: true, at: i, depth };
        continue;
      }
      if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        depth--;
        if (depth === 0) return { done: true, at: i + 1, depth };
      }
      i++;
    }
    return { done: false, at: i, depth };
  }
}

/** Index of the quote closing the string that opens at `open`, or -1 if it is not in `s` yet. */
function endOfString(s: string, open: number): number {
  let i = open + 1;
  for (;;) {
    const q = s.indexOf('"', i);
    if (q < 0) return -1;
    let bs = 0;
    for (let j = q - 1; j > open && s.charCodeAt(j) === 0x5c; j--) bs++;
    if (bs % 2 === 0) return q;
    i = q + 1;
  }
}

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BundleSyntaxError(`${what} is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function readKey(sc: Scanner): Promise<string> {
  const raw = await sc.rawValue();
  const key = parse(raw, "a member name");
  if (typeof key !== "string") throw new BundleSyntaxError("a member name is not a string");
  await sc.expect(":");
  return key;
}

/**
 * The parts of the bundle in document order. Throws BundleSyntaxError for text that is not the
 * JSON of one object; everything about the bundle's content is for the verifier to judge.
 */
export async function* bundleParts(chunks: AsyncIterable<string>): AsyncGenerator<BundlePart> {
  const sc = new Scanner(chunks[Symbol.asyncIterator]());
  await sc.expect("{");
  if ((await sc.peek()) === 0x7d) return;
  let key = await readKey(sc);
  let enveloped = false;
  if (key === "data" && (await sc.peek()) === 0x7b) {
    // The saved response {"data": bundle}: read the bundle inside.
    enveloped = true;
    await sc.expect("{");
    if ((await sc.peek()) === 0x7d) return;
    key = await readKey(sc);
  }
  const seen = new Set<string>();
  for (;;) {
    if (seen.has(key)) throw new BundleSyntaxError(`member "${key}" appears twice`);
    seen.add(key);
    if (key === "entries" && (await sc.peek()) === 0x5b) {
      await sc.expect("[");
      yield { type: "entries-start" };
      if ((await sc.peek()) === 0x5d) sc.pos++;
      else {
        for (;;) {
          const raw = await sc.rawValue();
          yield { type: "entry", value: parse(raw, "an entry"), raw };
          const c = await sc.peek();
          sc.pos++;
          if (c === 0x5d) break;
          if (c !== 0x2c) throw new BundleSyntaxError(`expected ',' or ']' in entries, found '${String.fromCharCode(c)}'`);
        }
      }
      yield { type: "entries-end" };
    } else {
      yield { type: "member", key, value: parse(await sc.rawValue(), `member "${key}"`) };
    }
    const c = await sc.peek();
    sc.pos++;
    if (c === 0x7d) break;
    if (c !== 0x2c) throw new BundleSyntaxError(`expected ',' or '}', found '${String.fromCharCode(c)}'`);
    key = await readKey(sc);
  }
  if (enveloped) {
    // The envelope is {"data": bundle} and nothing else. Anything after the bundle was once skipped
    // as syntax only, while JSON.parse (`audit report`, any reader of `.data`) takes a second
    // "data" member, or the outer object itself when its members look like a bundle: a genuine
    // bundle followed by a forged one verified, and the forged one was what got reported.
    const c = await sc.peek();
    sc.pos++;
    if (c !== 0x7d) throw new BundleSyntaxError(`the envelope holds only "data": found '${String.fromCharCode(c)}' after the bundle`);
  }
  // Nothing but blanks may follow the document.
  for (;;) {
    while (sc.pos < sc.buf.length && WS.has(sc.buf.charCodeAt(sc.pos))) sc.pos++;
    if (sc.pos < sc.buf.length) throw new BundleSyntaxError("text after the end of the document");
    if (!(await sc.more())) return;
  }
}

/** The parts of an already parsed document, for callers that hold it (tests, the benchmark). */
export async function* partsOf(doc: unknown): AsyncGenerator<BundlePart> {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const b = isObj(doc) && Object.keys(doc).length === 1 && isObj(doc.data) ? doc.data : doc;
  if (!isObj(b)) {
    yield { type: "member", key: "", value: b };
    return;
  }
  for (const [key, value] of Object.entries(b)) {
    if (key === "entries" && Array.isArray(value)) {
      yield { type: "entries-start" };
      for (const e of value) yield { type: "entry", value: e };
      yield { type: "entries-end" };
    } else yield { type: "member", key, value };
  }
}
