import { fromBase64, toBase64 } from "./base64.ts";

/**
 * The part of RFC 8941 (Structured Field Values) that `Signature-Input` and `Signature` use:
 * dictionaries whose members are items or inner lists, with parameters.
 */
export type BareItem = string | number | boolean | Uint8Array | { token: string };
export type Params = [string, BareItem][];
export interface Item {
  value: BareItem;
  params: Params;
}
export interface InnerList {
  items: Item[];
  params: Params;
}
export type Member = Item | InnerList;

export function isInnerList(m: Member): m is InnerList {
  return "items" in m;
}

class Parser {
  pos = 0;
  readonly s: string;
  constructor(s: string) {
    this.s = s;
  }
  peek(): string {
    return this.s[this.pos] ?? "";
  }
  skip(chars: RegExp): void {
    while (this.pos < this.s.length && chars.test(this.peek())) this.pos++;
  }
  take(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.s);
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }
}

const KEY = /[a-z*][a-z0-9_\-.*]*/y;
const TOKEN = /[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*/y;
const NUMBER = /-?[0-9]{1,15}(\.[0-9]{1,3})?/y;
const BYTES = /:[A-Za-z0-9+/=]*:/y;

function bareItem(p: Parser): BareItem | undefined {
  const c = p.peek();
  if (c === '"') return string(p);
  if (c === ":") {
    const raw = p.take(BYTES);
    return raw === undefined ? undefined : fromBase64(raw.slice(1, -1));
  }
  if (c === "?") {
    const raw = p.take(/\?[01]/y);
    return raw === undefined ? undefined : raw === "?1";
  }
  if (c === "-" || /[0-9]/.test(c)) {
    const raw = p.take(NUMBER);
    return raw === undefined ? undefined : Number(raw);
  }
  const token = p.take(TOKEN);
  return token === undefined ? undefined : { token };
}

function string(p: Parser): string | undefined {
  let out = "";
  for (p.pos++; p.pos < p.s.length; p.pos++) {
    const c = p.peek();
    if (c === "\\") {
      const next = p.s[++p.pos];
      if (next !== '"' && next !== "\\") return undefined;
      out += next;
    } else if (c === '"') {
      p.pos++;
      return out;
    } else if (c < " " || c > "~") {
      return undefined;
    } else {
      out += c;
    }
  }
  return undefined;
}

function params(p: Parser): Params | undefined {
  const out: Params = [];
  while (p.peek() === ";") {
    p.pos++;
    p.skip(/ /);
    const key = p.take(KEY);
    if (key === undefined) return undefined;
    let value: BareItem | undefined = true;
    if (p.peek() === "=") {
      p.pos++;
      value = bareItem(p);
      if (value === undefined) return undefined;
    }
    // RFC 8941 §4.2.3.2: a repeated key overwrites the value in place.
    const existing = out.find(([k]) => k === key);
    if (existing) existing[1] = value;
    else out.push([key, value]);
  }
  return out;
}

function item(p: Parser): Item | undefined {
  const value = bareItem(p);
  const ps = value === undefined ? undefined : params(p);
  return value === undefined || ps === undefined ? undefined : { value, params: ps };
}

function member(p: Parser): Member | undefined {
  if (p.peek() !== "(") return item(p);
  p.pos++;
  const items: Item[] = [];
  for (;;) {
    p.skip(/ /);
    if (p.peek() === ")") {
      p.pos++;
      const ps = params(p);
      return ps === undefined ? undefined : { items, params: ps };
    }
    const it = item(p);
    if (!it || (p.peek() !== " " && p.peek() !== ")")) return undefined;
    items.push(it);
  }
}

/** Parses a Dictionary (RFC 8941 §4.2.2); `undefined` for anything malformed. A repeated key overwrites in place. */
export function parseDictionary(text: string): Map<string, Member> | undefined {
  const p = new Parser(text);
  const out = new Map<string, Member>();
  p.skip(/ /);
  while (p.pos < p.s.length) {
    const key = p.take(KEY);
    if (key === undefined) return undefined;
    let value: Member | undefined;
    if (p.peek() === "=") {
      p.pos++;
      value = member(p);
    } else {
      const ps = params(p);
      value = ps === undefined ? undefined : { value: true, params: ps };
    }
    if (!value) return undefined;
    out.set(key, value);
    p.skip(/[ \t]/);
    if (p.pos >= p.s.length) return out;
    if (p.peek() !== ",") return undefined;
    p.pos++;
    p.skip(/[ \t]/);
    if (p.pos >= p.s.length) return undefined;
  }
  return out;
}

export function serializeBareItem(v: BareItem): string {
  if (typeof v === "string") return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  if (typeof v === "boolean") return v ? "?1" : "?0";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Math.round(v * 1000) / 1000);
  if (v instanceof Uint8Array) return `:${toBase64(v)}:`;
  return v.token;
}

export function serializeParams(ps: Params): string {
  return ps.map(([k, v]) => (v === true ? `;${k}` : `;${k}=${serializeBareItem(v)}`)).join("");
}

export function serializeInnerList(list: InnerList): string {
  return `(${list.items.map((i) => serializeBareItem(i.value) + serializeParams(i.params)).join(" ")})${serializeParams(list.params)}`;
}
