/**
 * Issue 16 goal 6: the fast path of `kakunin audit verify` (fast-verify.ts, entry-scan.ts) reads a
 * v3 bundle's entries without JSON.parse. It must decide exactly as the reference path (JSON.parse
 * per entry) does: a bundle it accepts, the reference accepts with the identical report; anything
 * else it hands to the reference path. Differential tests over a real origin's bundle whose entries
 * carry payloads aimed at a field scanner (strings holding `"kind":"x"` and `"index":`, escaped
 * quotes and backslashes, control characters, non-ASCII, unicode, deep nesting, a 1 MB string),
 * over chunkings that cut every element, and over mutated bundles.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StringDecoder } from "node:string_decoder";
import { canonicalize, signInternal } from "@kakunin/shared";
import { appendAudit } from "../../origin/src/audit/append.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { EntryFields, scanEntry, UNSURE } from "../src/verify/entry-scan.ts";
import { fastAttempt } from "../src/verify/fast-verify.ts";
import { BundleSyntaxError, verifyStream, type VerifyReport } from "../src/verify/index.ts";
import { fmt } from "../src/verify/fmt.ts";
import { parseTime } from "../src/verify/time.ts";
import { CLI, fetchRoot } from "./support/run.ts";

const CLI_DIR = join(import.meta.dirname, "..");

/** The members the checks read, as JSON.parse gives them (undefined: absent). */
function expectedFields(e: Record<string, unknown>): Record<string, unknown> {
  const pick = (o: unknown, keys: string[]) =>
    Object.fromEntries(keys.map((k) => [k, typeof o === "object" && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>)[k] : undefined]));
  const top = pick(e, ["v", "log", "index", "kind", "at", "agent_id", "prev", "agent_seq", "agent_prev", "lifecycle_count", "lifecycle_prev"]);
  const data = e.data;
  if (typeof data !== "object" || data === null || Array.isArray(data)) return { ...top, data };
  const d = pick(data, ["received_at", "serial_number", "revoked_at"]);
  const event = (data as Record<string, unknown>).event;
  const ev = typeof event === "object" && event !== null && !Array.isArray(event) ? pick(event, ["event_id", "timestamp"]) : event;
  return { ...top, data: { ...d, event: ev } };
}

/** The scanner's fields in the same plain shape. */
function scannedFields(f: EntryFields): Record<string, unknown> {
  const plain = (o: unknown): unknown =>
    o instanceof Object && !Array.isArray(o) && o.constructor.name.endsWith("Fields")
      ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k, plain(v)]))
      : o;
  return plain(f) as Record<string, unknown>;
}

describe("kakunin audit verify, fast path: the same verdict as JSON.parse-based verification", () => {
  let o: TestOrigin;
  let dir = "";
  let text = "";
  let rootPem = "";
  let rootFile = "";
  let n = 0;

  const nasty = [
    '"kind":"x"',
    '{"index":7,"kind":"certificate.revoked","v":2}',
    'he said \\"no\\" \\\\ back\\slash \\\\"',
    'quote " and backslash \\ and both \\"',
    "control \u0001\u001f\b\f\n\r\t end",
    "non-ASCII: é ü 日本 😀 \u2028 \u2029",
    '},{"actor":{},"v":2}],"archive":[',
    "\\u0022kind\\u0022:\\u0022x\\u0022",
  ];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-verify-fast-"));
    o = await startTestOrigin("pglite");
    const tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
    // Events through the real ingest path, their agent-controlled strings and attributes aimed at the scanner.
    let deep: unknown = { kind: "deep", index: 1 };
    for (let d = 0; d < 60; d++) deep = d % 2 ? { [`"kind":"${d}"`]: deep, v: d } : [deep, '"index":3'];
    const events = nasty.map((s, i) => ({
      event_id: `ev-${i}-"kind"`.replace(/"/g, "q"),
      timestamp: new Date(Date.now() + i).toISOString(),
      type: "tool_call",
      action: s.replace(/[\u0000-\u001f\u007f]/g, "?"),
      resource: `{"index":${i},"kind":"event.ingested"}`,
      outcome: "success",
      attributes: { [s]: s, kind: "evil", index: -1, v: [s, { kind: s }], prev: null, nested: i === 0 ? deep : { a: [[[[s]]]] }, e: "é" },
    }));
    const body = JSON.stringify({
      events: events.map((event) => ({
        agent_id: agent,
        tenant_id: tenantId,
        serial_number: serial,
        score: 0.1,
        band: "low",
        reasons: [],
        received_at: new Date().toISOString(),
        event,
      })),
    });
    const headers = await signInternal(o.services.edgeSecret, "POST", "/internal/v1/events", body);
    const r = await o.request("POST", "/internal/v1/events", { key: null, rawBody: body, headers: { ...headers, "content-type": "application/json" } });
    expect(r.status, await r.clone().text()).toBe(200);
    // Lifecycle entries written by the origin's own append with what the ingest limits keep out:
    // a 1 MB string, 2,000 levels of nesting, members named like the ones the scanner reads.
    let deeper: unknown = "bottom";
    for (let d = 0; d < 2000; d++) deeper = d % 2 ? { kind: "x", data: deeper } : [deeper];
    const big = `${"x".repeat(500_000)}"kind":"x"\\${"é".repeat(250_000)}`;
    await o.services.db.transaction(async (tx) => {
      await appendAudit(tx, tenantId, [
        {
          kind: "agent.updated",
          actor: { type: "system", id: "test" },
          agentId: agent,
          at: new Date(),
          data: { note: big, event: { event_id: "x", timestamp: "not a time" } },
        },
        {
          kind: "agent.updated",
          actor: { type: "system", id: "test" },
          agentId: agent,
          at: new Date(),
          data: { deeper, "": "", "\u0000": "\u0000", received_at: nasty },
        },
      ]);
    });
    const res = await o.request("GET", `/v1/agents/${agent}/evidence`);
    expect(res.status).toBe(200);
    text = await res.text();
    n = (text.match(/\{"actor":/g) ?? []).length;
    ({ rootPem, rootFile } = await fetchRoot(o, dir));
  }, 300_000);
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let files = 0;
  const fileOf = (t: string | Buffer): string => {
    const f = join(dir, `b${files++}.json`);
    writeFileSync(f, t);
    return f;
  };
  /** The reference verdict: JSON.parse per entry (a syntax error: refused, as the CLI refuses the file). */
  const reference = async (t: string | Buffer): Promise<VerifyReport | "not JSON"> => {
    try {
      // As the CLI reads the file: UTF-8 decoded chunk by chunk (malformed bytes become U+FFFD).
      const decoder = new StringDecoder("utf8");
      const b = Buffer.from(t);
      const chunks = async function* (): AsyncGenerator<string> {
        for (let i = 0; i < b.length; i += 1 << 20) yield decoder.write(b.subarray(i, i + (1 << 20)));
        yield decoder.end();
      };
      return await verifyStream(chunks(), { rootPem });
    } catch (e) {
      if (e instanceof BundleSyntaxError) return "not JSON";
      throw e;
    }
  };
  /** Fast and reference agree: the fast path either hands over, or gives the reference's (passing) report. */
  const agree = async (t: string | Buffer, chunk?: number): Promise<"fast" | "fallback"> => {
    const fast = await fastAttempt(fileOf(t), { rootPem }, chunk);
    const ref = await reference(t);
    if ("report" in fast) {
      expect(ref).not.toBe("not JSON");
      expect((ref as VerifyReport).ok).toBe(true);
      expect(fast.report).toEqual(ref);
      return "fast";
    }
    if (ref !== "not JSON") expect(ref.ok, `fell back (${fast.fallback}) on a bundle that verifies`).toBe(false);
    return "fallback";
  };

  it("the scanner reads every entry's members exactly as JSON.parse does, payloads aimed at it included", () => {
    const buf = Buffer.from(text);
    const latin1 = buf.toString("latin1");
    let at = buf.indexOf('"entries":[') + 11;
    let entries = 0;
    for (;;) {
      if (buf[at] === 0x22) at = buf.indexOf('",', at + 1) + 2;
      if (buf[at] !== 0x7b) break;
      const f = new EntryFields();
      const end = scanEntry(buf, at, buf.length, f, latin1);
      expect(end).toBeGreaterThan(at);
      const parsed = JSON.parse(buf.subarray(at, end).toString("utf8")) as Record<string, unknown>;
      expect(scannedFields(f)).toEqual(expectedFields(parsed));
      entries++;
      if (buf[end] !== 0x2c) break;
      at = end + 1;
    }
    expect(entries).toBe(n);
    expect(text.includes('"note":"xxx')).toBe(true);
    expect(text.includes('{"data":[{"data":[{"data":[')).toBe(true);
  });

  it("the genuine bundle: the fast path verifies it, with the reference's report, in any chunking", async () => {
    const ref = await reference(text);
    expect(ref !== "not JSON" && ref.ok, JSON.stringify(ref)).toBe(true);
    for (const chunk of [1, 7, 64, 4096, 1 << 20, undefined]) expect(await agree(text, chunk), `chunks of ${chunk}`).toBe("fast");
    // Blanks between elements and around the document, the bare bundle: still the same verdict.
    const start = text.indexOf('"entries":[') + 11;
    const end = text.lastIndexOf('],"archive":');
    const elements = (JSON.parse(text) as { data: { entries: unknown[] } }).data.entries.map((e) =>
      typeof e === "string" ? JSON.stringify(e) : canonicalize(e),
    );
    expect(elements.join(",")).toBe(text.slice(start, end));
    const spaced = `${text.slice(0, start)} \n${elements.join(" ,\r\n\t")}\n ${text.slice(end)}`;
    expect(await agree(` \n${spaced}\n`, 1000)).toBe("fast");
    const bare = JSON.stringify((JSON.parse(text) as { data: unknown }).data);
    expect(await agree(bare.replace(/"entries":\[[\s\S]*$/, "") + text.slice(text.indexOf('"entries":['), -1), 4096)).toBe("fast");
  }, 300_000);

  it("scanner-aimed edits (duplicate members, reordered or escaped names, blanks inside an entry, escapes, nesting) → the same verdict as JSON.parse", async () => {
    const first = text.indexOf('{"actor":', text.indexOf('"entries":['));
    const edits: [string, string][] = [
      [
        "duplicate kind (first wins for a scanner, last for JSON.parse)",
        text.replace('"kind":"event.ingested"', '"kind":"agent.created","kind":"event.ingested"'),
      ],
      ["duplicate kind, reversed", text.replace('"kind":"event.ingested"', '"kind":"event.ingested","kind":"agent.created"')],
      ["duplicate index", text.replace(/"index":(\d+),"kind":"event.ingested"/, '"index":0,"index":$1,"kind":"event.ingested"')],
      ["duplicate data", text.replace(/"data":\{"band"/, '"data":{},"data":{"band"')],
      ["escaped member name", text.replace('"kind":"event.ingested"', '"\\u006bind":"event.ingested"')],
      ["escaped value", text.replace('"kind":"event.ingested"', '"kind":"event\\u002eingested"')],
      ["blank inside an entry", text.replace('"kind":"event.ingested"', '"kind": "event.ingested"')],
      ["line break inside an entry", text.replace('"kind":"event.ingested"', '"kind":\n"event.ingested"')],
      ["members out of order", text.replace(/"index":(\d+),"kind":"event.ingested"/, '"kind":"event.ingested","index":$1')],
      ["unescaped quote in a payload", text.replace('"action":"\\"kind\\":', '"action":""kind":')],
      ["a payload's escaped kind made real", text.replace('"action":"\\"kind\\":\\"x\\""', '"action":"","kind":"x"')],
      ["number in another form", text.replace('"v":2}', '"v":2.0}')],
      ["index as a string", text.replace(/"index":(\d+)/, '"index":"$1"')],
      ["data not an object", text.replace(/"data":\{"band"/, '"data":[{"band"')],
      ["trailing text", `${text} x`],
      ["truncated", text.slice(0, text.length - 20)],
      ["an entry cut short", text.slice(0, first + 50) + text.slice(first + 60)],
      ["unbalanced nesting", text.replace('{"data":[{"data":[', '{"data":[[{"data":[')],
      ["entries twice", text.replace('"entries":[', '"entries":[],"entries":[')],
      ["unsigned header edit", text.replace(/"generated_at":"[^"]*"/, '"generated_at":"2020-01-01T00:00:00.000Z"')],
    ];
    const outcomes: Record<string, string> = {};
    for (const [name, t] of edits) {
      expect(t === text, name).toBe(false);
      outcomes[name] = await agree(t, name.length * 97);
    }
    // Bytes that are not UTF-8 where an é was (the reference decodes them to U+FFFD).
    const bytes = Buffer.from(text);
    const at = bytes.indexOf(Buffer.from("é"), bytes.indexOf('"entries":['));
    bytes[at] = 0xff;
    outcomes["invalid UTF-8"] = await agree(bytes, 333);
    // Only the unsigned header edit leaves a bundle that verifies (on the fast path).
    expect(
      Object.entries(outcomes)
        .filter(([, v]) => v === "fast")
        .map(([k]) => k),
    ).toEqual(["unsigned header edit"]);
  }, 300_000);

  it("random single-byte edits and deletions: never accepted by the fast path unless the reference accepts them identically", async () => {
    let seed = 42;
    const rnd = (m: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % m;
    };
    const from = text.indexOf('"entries":[');
    const bytes = '"\\{}[],: 0aZé\n';
    for (let k = 0; k < 150; k++) {
      const p = from + rnd(text.length - from);
      const c = bytes[rnd(bytes.length)]!;
      const t = k % 3 === 0 ? text.slice(0, p) + text.slice(p + 1) : text.slice(0, p) + c + text.slice(p + 1);
      await agree(t, 1 + rnd(5000));
    }
  }, 600_000);

  it("the CLI prints the same report on both paths (KAKUNIN_VERIFY_PATH=reference), for a passing and a failing bundle", async () => {
    const run = (file: string, path?: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const env = { ...process.env, ...(path ? { KAKUNIN_VERIFY_PATH: path } : {}) };
        execFile(
          process.execPath,
          [CLI, "audit", "verify", file, "--root", rootFile, "--json"],
          { cwd: CLI_DIR, env, maxBuffer: 64 << 20 },
          (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr }),
        );
      });
    for (const [t, code] of [
      [text, 0],
      [text.replace('"kind":"event.ingested"', '"kind":"agent.created","kind":"event.ingested"'), 1],
    ] as const) {
      const file = fileOf(t);
      const [debug, ref] = [await run(file, "debug"), await run(file, "reference")];
      expect(debug.code, debug.stdout + debug.stderr).toBe(code);
      expect(debug.stdout).toBe(ref.stdout);
      expect(debug.stderr).toMatch(code === 0 ? /fast path: verified/ : /fast path: fell back/);
    }
  }, 120_000);
});

describe("fmt", () => {
  it('equals toLocaleString("en-US")', () => {
    for (const x of [0, 1, 12, 123, 999, 1000, 1001, 99_999, 100_000, 1_234_567, 2 ** 53 - 1, -1, 1.5, -1234.5, NaN, Infinity])
      expect(fmt(x)).toBe(x.toLocaleString("en-US"));
    for (let x = 1; x < 1e15; x = x * 7 + 3) expect(fmt(x)).toBe(x.toLocaleString("en-US"));
  });
});

describe("parseTime", () => {
  it("equals Date.parse on the ISO form, near every boundary, and on anything else", () => {
    const samples = [
      "2026-12-03T11:37:23.198Z",
      "2024-02-28T23:59:59.999Z",
      "2024-02-29T00:00:00.000Z",
      "2023-02-29T00:00:00.000Z",
      "2026-04-31T00:00:00.000Z",
      "1000-01-01T00:00:00.000Z",
      "0999-01-01T00:00:00.000Z",
      "0050-01-01T00:00:00.000Z",
      "9999-12-31T23:59:59.999Z",
      "2026-13-01T00:00:00.000Z",
      "2026-00-01T00:00:00.000Z",
      "2026-01-00T00:00:00.000Z",
      "2026-01-01T24:00:00.000Z",
      "2026-01-01T00:60:00.000Z",
      "2026-01-01T00:00:60.000Z",
      "2026-01-01T00:00:00.000+01:00",
      "2026-01-01T00:00:00Z",
      "2026-01-01",
      "",
      "x",
      "2026-01-01T00:00:00.00xZ",
      "2026-1x-01T00:00:00.000Z",
      "20x6-01-01T00:00:00.000Z",
      "2026-01-01T0x:00:00.000Z",
      "+02026-01-01T00:00:00.000Z",
      "2026-01-01t00:00:00.000z",
      "2026-01-01T00:00:00.000Z ",
    ];
    let seed = 7;
    const rnd = (m: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % m;
    };
    for (let k = 0; k < 20_000; k++) {
      const s = new Date(rnd(2 ** 31) * 2000).toISOString();
      const p = rnd(24);
      samples.push(s, s.slice(0, p) + "0123456789xZT:-."[rnd(16)] + s.slice(p + 1));
    }
    for (const s of samples) expect(Object.is(parseTime(s), Date.parse(s)), s).toBe(true);
  });
});

describe("entry-scan on its own", () => {
  it("never throws or loops on arbitrary bytes; unsure of what is not an entry", () => {
    let seed = 3;
    const rnd = (m: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % m;
    };
    const alphabet = Buffer.from('{}[]":,\\ 0a-eé\n');
    for (let k = 0; k < 5000; k++) {
      const len = 1 + rnd(60);
      const b = Buffer.alloc(len + 1);
      b[0] = 0x7b;
      for (let j = 1; j <= len; j++) b[j] = alphabet[rnd(alphabet.length)]!;
      const r = scanEntry(b, 0, b.length, new EntryFields(), b.toString("latin1"));
      expect(r === UNSURE || r === -1 || (r > 0 && r <= b.length)).toBe(true);
    }
  });
});
