import { describe, expect, it } from "vitest";
import { canonicalBytes, canonicalize } from "@kakunin/shared";

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
// The reference files print bytes as space-separated hex across several lines.
const unspace = (s: string): string => s.replace(/\s+/g, "");

function fromBits(bits: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${bits}`));
  return view.getFloat64(0);
}

// cyberphone/json-canonicalization testdata (the RFC 8785 author's reference suite): input
// text verbatim, expected output as the suite's outhex bytes or output text.
const SUITE: { name: string; input: string; outhex?: string; output?: string }[] = [
  {
    name: "weird.json (UTF-16 code-unit key order, control characters)",
    input: String.raw`{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\u000a": "Newline",
  "1": "One",
  "\u0080": "Control\u007f",
  "\ud83d\ude02": "Smiley",
  "\u00f6": "Latin Small Letter O With Diaeresis",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "</script>": "Browser Challenge"
}`,
    outhex: `7b 22 5c 6e 22 3a 22 4e 65 77 6c 69 6e 65 22 2c 22 5c 72 22 3a 22 43 61 72 72 69 61 67 65 20 52
65 74 75 72 6e 22 2c 22 31 22 3a 22 4f 6e 65 22 2c 22 3c 2f 73 63 72 69 70 74 3e 22 3a 22 42 72
6f 77 73 65 72 20 43 68 61 6c 6c 65 6e 67 65 22 2c 22 c2 80 22 3a 22 43 6f 6e 74 72 6f 6c 7f 22
2c 22 c3 b6 22 3a 22 4c 61 74 69 6e 20 53 6d 61 6c 6c 20 4c 65 74 74 65 72 20 4f 20 57 69 74 68
20 44 69 61 65 72 65 73 69 73 22 2c 22 e2 82 ac 22 3a 22 45 75 72 6f 20 53 69 67 6e 22 2c 22 f0
9f 98 82 22 3a 22 53 6d 69 6c 65 79 22 2c 22 ef ac b3 22 3a 22 48 65 62 72 65 77 20 4c 65 74 74
65 72 20 44 61 6c 65 74 20 57 69 74 68 20 44 61 67 65 73 68 22 7d`,
  },
  {
    name: "values.json (numbers, escaping, literals)",
    input: String.raw`{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`,
    outhex: `7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72 75 65 2c 66 61 6c 73 65 5d 2c 22 6e
75 6d 62 65 72 73 22 3a 5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31 65 2b 33 30
2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37 5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24
5c 75 30 30 30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d`,
  },
  {
    name: "french.json (no locale collation)",
    input: `{
  "peach": "This sorting order",
  "péché": "is wrong according to French",
  "pêche": "but canonicalization MUST",
  "sin":   "ignore locale"
}`,
    outhex: `7b 22 70 65 61 63 68 22 3a 22 54 68 69 73 20 73 6f 72 74 69 6e 67 20 6f 72 64 65 72 22 2c 22 70
c3 a9 63 68 c3 a9 22 3a 22 69 73 20 77 72 6f 6e 67 20 61 63 63 6f 72 64 69 6e 67 20 74 6f 20 46
72 65 6e 63 68 22 2c 22 70 c3 aa 63 68 65 22 3a 22 62 75 74 20 63 61 6e 6f 6e 69 63 61 6c 69 7a
61 74 69 6f 6e 20 4d 55 53 54 22 2c 22 73 69 6e 22 3a 22 69 67 6e 6f 72 65 20 6c 6f 63 61 6c 65
22 7d`,
  },
  {
    name: "arrays.json",
    input: `[\n  56,\n  {\n    "d": true,\n    "10": null,\n    "1": [ ]\n  }\n]`,
    output: `[56,{"1":[],"10":null,"d":true}]`,
  },
  {
    name: "structures.json (recursive sorting, 56.0 → 56)",
    input: String.raw`{
  "1": {"f": {"f": "hi","F": 5} ,"\n": 56.0},
  "10": { },
  "": "empty",
  "a": { },
  "111": [ {"e": "yes","E": "no" } ],
  "A": { }
}`,
    output: String.raw`{"":"empty","1":{"\n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{"E":"no","e":"yes"}],"A":{},"a":{}}`,
  },
  {
    name: "unicode.json (no Unicode normalization)",
    input: String.raw`{
  "Unnormalized Unicode":"A\u030a"
}`,
    output: `{"Unnormalized Unicode":"A\u030a"}`,
  },
];

// RFC 8785 Appendix B: IEEE-754 bit pattern → ECMAScript serialization.
const NUMBERS: [string, string][] = [
  ["0000000000000000", "0"],
  ["8000000000000000", "0"],
  ["0000000000000001", "5e-324"],
  ["8000000000000001", "-5e-324"],
  ["7fefffffffffffff", "1.7976931348623157e+308"],
  ["ffefffffffffffff", "-1.7976931348623157e+308"],
  ["4340000000000000", "9007199254740992"],
  ["c340000000000000", "-9007199254740992"],
  ["4430000000000000", "295147905179352830000"],
  ["44b52d02c7e14af5", "9.999999999999997e+22"],
  ["44b52d02c7e14af6", "1e+23"],
  ["44b52d02c7e14af7", "1.0000000000000001e+23"],
  ["444b1ae4d6e2ef4e", "999999999999999700000"],
  ["444b1ae4d6e2ef4f", "999999999999999900000"],
  ["444b1ae4d6e2ef50", "1e+21"],
  ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
  ["3eb0c6f7a0b5ed8d", "0.000001"],
  ["41b3de4355555553", "333333333.3333332"],
  ["41b3de4355555554", "333333333.33333325"],
  ["41b3de4355555555", "333333333.3333333"],
  ["41b3de4355555556", "333333333.3333334"],
  ["41b3de4355555557", "333333333.33333343"],
  ["becbf647612f3696", "-0.0000033333333333333333"],
  ["43143ff3c1cb0959", "1424953923781206.2"],
];

describe("canonicalize (RFC 8785)", () => {
  it.each(SUITE)("reference suite: $name", ({ input, outhex, output }) => {
    const value: unknown = JSON.parse(input);
    if (outhex !== undefined) expect(hex(canonicalBytes(value))).toBe(unspace(outhex));
    if (output !== undefined) {
      expect(canonicalize(value)).toBe(output);
      expect(canonicalBytes(value)).toEqual(new TextEncoder().encode(output));
    }
  });

  it.each(NUMBERS)("Appendix B number %s → %s", (bits, expected) => {
    expect(canonicalize(fromBits(bits))).toBe(expected);
    expect(canonicalize([fromBits(bits)])).toBe(`[${expected}]`);
  });

  it("serializes the number boundaries of ECMAScript Number::toString", () => {
    expect(canonicalize([1e21, 1e20, 1e-7, 1e-6, -0, 0.1 + 0.2, 333333333.33333329, 4.5, 1e30]))
      .toBe("[1e+21,100000000000000000000,1e-7,0.000001,0,0.30000000000000004,333333333.3333333,4.5,1e+30]");
  });

  it("orders keys by UTF-16 code units, not code points or locale", () => {
    // U+1F600 is D83D DE00 in UTF-16, so it sorts before U+FB33 although its code point is larger.
    const keys = ["\u20ac", "\r", "1", "\u0080", "\ud83d\ude00", "\u00f6", "\ufb33", "a", "A", "", "10", "2"];
    const value = Object.fromEntries(keys.map((k, i) => [k, i]));
    expect(canonicalize(value)).toBe(
      '{"":9,"\\r":1,"1":2,"10":10,"2":11,"A":8,"a":7,"\u0080":3,"\u00f6":5,"\u20ac":0,"\ud83d\ude00":4,"\ufb33":6}',
    );
  });

  it("escapes exactly the RFC's set and leaves the rest literal", () => {
    expect(canonicalize("\u0000\u0008\u0009\u000a\u000c\u000d\u001f\"\\/\u007f\u2028é😀"))
      .toBe('"\\u0000\\b\\t\\n\\f\\r\\u001f\\"\\\\/\u007f\u2028é😀"');
  });

  it("accepts null-prototype objects and shared (non-cyclic) references", () => {
    const shared = { z: 1 };
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { b: shared, a: shared });
    expect(canonicalize(bare)).toBe('{"a":{"z":1},"b":{"z":1}}');
    expect(canonicalize([null, true, false, "", [], {}])).toBe('[null,true,false,"",[],{}]');
  });

  it.each<[string, unknown]>([
    ["NaN", Number.NaN],
    ["Infinity", Number.POSITIVE_INFINITY],
    ["-Infinity", [Number.NEGATIVE_INFINITY]],
    ["undefined", undefined],
    ["an undefined member", { a: 1, b: undefined }],
    ["an undefined element", [1, undefined]],
    ["an array hole", [1, , 3]],
    ["a function", { f: () => 1 }],
    ["a bigint", { n: 10n }],
    ["a symbol", [Symbol("s")]],
    ["a lone high surrogate", "a\ud83db"],
    ["a lone low surrogate key", { "\ude00": 1 }],
    ["a Date", { at: new Date(0) }],
    ["a Map", new Map([["a", 1]])],
    ["a Uint8Array", new Uint8Array(2)],
  ])("rejects %s with a TypeError", (_name, value) => {
    expect(() => canonicalize(value)).toThrow(TypeError);
    expect(() => canonicalBytes(value)).toThrow(TypeError);
  });

  it("rejects cycles with a TypeError", () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = { back: a };
    expect(() => canonicalize(a)).toThrow(/cyclic/);
    const arr: unknown[] = [];
    arr.push(arr);
    expect(() => canonicalize(arr)).toThrow(TypeError);
  });
});
