import { describe, expect, it } from "vitest";
import { canonicalize, canonicalizeByWalk } from "@kakunin/shared";
import { rng } from "./rng.ts";

/**
 * canonicalize has a fast path (a key-sorted copy through JSON.stringify) in front of the general
 * RFC 8785 walk. Audit entries are hashed and signed over its output, so the two must agree byte
 * for byte on every input, and refuse the same inputs with the same TypeError. Compared here over
 * generated values built to hit every place they could part: member order (UTF-16 code units,
 * index-like names, `__proto__`), string escaping and unicode (surrogate pairs, lone halves,
 * controls, U+2028, BOM), every number form, nesting, and what I-JSON refuses.
 */
const STRINGS = [
  "",
  "a",
  "é",
  "日本語",
  "😀",
  "\ud83d\ude02x",
  "\u20ac$\u000f\nA'B\"\\/",
  "\t\b\f\r\u0000\u001f\u007f",
  "\u2028\u2029",
  "\ufeff",
  "</script>",
  "ж".repeat(40),
];
const LONE = ["\ud800", "x\udc00", "\udbff!"];
const KEYS = [
  "",
  "a",
  "A",
  "b",
  "aa",
  "é",
  "€",
  "\ud83d\ude02",
  "\ufb33",
  "\u0080",
  "\r",
  "\n",
  "1",
  "10",
  "9",
  "01",
  "-1",
  "1.5",
  "1e3",
  "4294967295",
  "k1",
  "__proto__",
  "constructor",
  "toJSON",
  "z",
];
const NUMBERS = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 1e-6, 123.456, 5e-324, -5e-324, 2 ** 53, 2 ** 53 + 2, Number.MAX_VALUE, 333333333.33333329, 4.5, 2e-3, 1e30];
const REFUSED: (() => unknown)[] = [
  () => Number.NaN,
  () => Number.POSITIVE_INFINITY,
  () => undefined,
  () => 1n,
  () => new Date(0),
  () => new Map(),
  () => () => 1,
  () => Symbol("s"),
  () => new String("boxed"),
  () => new Uint8Array(2),
];

function gen(rand: () => number, depth: number, hostile: boolean): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const r = rand();
  if (hostile && r < 0.02) return pick(REFUSED)();
  if (hostile && r < 0.04) return pick(LONE);
  if (depth > 4 || r < 0.35) {
    const leaf = rand();
    if (leaf < 0.35) return pick(STRINGS) + (rand() < 0.3 ? pick(STRINGS) : "");
    if (leaf < 0.7) return rand() < 0.5 ? pick(NUMBERS) * (rand() < 0.5 ? -1 : 1) : (rand() - 0.5) * 10 ** Math.floor(rand() * 40 - 20);
    if (leaf < 0.85) return rand() < 0.5;
    return null;
  }
  if (r < 0.6) {
    const arr = Array.from({ length: Math.floor(rand() * 5) }, () => gen(rand, depth + 1, hostile));
    if (hostile && rand() < 0.03) arr.length += 2; // holes
    return arr;
  }
  const obj: Record<string, unknown> = rand() < 0.1 ? (Object.create(null) as Record<string, unknown>) : {};
  const n = Math.floor(rand() * 7);
  for (let i = 0; i < n; i++) {
    const key = rand() < 0.6 ? pick(KEYS) : pick(STRINGS) + pick(KEYS);
    if (!hostile && (/^\d/.test(key) || key === "__proto__")) continue;
    Object.defineProperty(obj, hostile && rand() < 0.02 ? pick(LONE) : key, {
      value: gen(rand, depth + 1, hostile),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return obj;
}

function outcome(f: (v: unknown) => string, v: unknown): { ok: string } | { error: string } {
  try {
    return { ok: f(v) };
  } catch (e) {
    return { error: `${(e as Error).constructor.name}: ${(e as Error).message}` };
  }
}

describe("canonicalize's fast path against the general walk", () => {
  for (const hostile of [false, true]) {
    it(`agrees on 20,000 generated ${hostile ? "values including refused ones" : "I-JSON values"}`, () => {
      const rand = rng(hostile ? 7 : 3);
      let refused = 0;
      for (let i = 0; i < 20_000; i++) {
        const v = gen(rand, 0, hostile);
        const walk = outcome(canonicalizeByWalk, v);
        expect(outcome(canonicalize, v), JSON.stringify(walk)).toEqual(walk);
        if ("error" in walk) refused++;
        // The same value after the JSON round trip appendAudit applies to `data`.
        if (!("error" in outcome(JSON.stringify, v)) && JSON.stringify(v) !== undefined) {
          const parsed: unknown = JSON.parse(JSON.stringify(v));
          expect(outcome(canonicalize, parsed)).toEqual(outcome(canonicalizeByWalk, parsed));
        }
      }
      if (hostile) expect(refused).toBeGreaterThan(500);
    });
  }

  it("agrees on audit-entry-shaped values, deep nesting and cycles", () => {
    const entry = {
      v: 2,
      log: "5b0c3f1e-7a2d-4c19-9e8b-2f4d6a1c0e97",
      index: 12345,
      kind: "event.ingested",
      at: "2026-12-03T12:00:00.000Z",
      actor: { type: "edge", id: "agent-monitor" },
      agent_id: null,
      prev: "ab".repeat(32),
      agent_seq: 3,
      agent_prev: null,
      lifecycle_count: 0,
      data: { event: { event_id: "e-1", amount: 12.5, currency: "EUR", note: 'ü 😀 "\\' }, reasons: [{ feature: "rate", contribution: 0.05 }], score: 0.12 },
    };
    expect(canonicalize(entry)).toBe(canonicalizeByWalk(entry));
    let deep: unknown = { leaf: "x" };
    for (let i = 0; i < 600; i++) deep = i % 2 ? [deep] : { d: deep };
    expect(canonicalize(deep)).toBe(canonicalizeByWalk(deep));
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(outcome(canonicalize, cyclic)).toEqual(outcome(canonicalizeByWalk, cyclic));
    expect(outcome(canonicalize, cyclic)).toEqual({ error: "TypeError: $.self.back: cyclic structure" });
  });
});
