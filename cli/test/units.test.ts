import { describe, expect, it } from "vitest";
import { parse } from "../src/args.ts";
import { batchBody, MAX_BODY_BYTES, toBatches } from "../src/events/batches.ts";
import { parseJsonl } from "../src/events/jsonl.ts";
import { progress, progressBar } from "../src/events/progress.ts";
import { parseDuration } from "../src/ingest-token.ts";
import { UsageError, type Io } from "../src/io.ts";

/** The pure pieces behind the commands, where the edge cases are cheaper to reach than through a server. */
describe("batching", () => {
  const item = (bytes: number, line: number) => ({ bytes, line, json: JSON.stringify({ p: "x".repeat(Math.max(0, bytes - 8)) }) });

  it("splits by count, keeping file order", () => {
    const items = Array.from({ length: 1201 }, (_, i) => item(20, i + 1));
    const b = toBatches(items, 500);
    expect(b.map((x) => x.length)).toEqual([500, 500, 201]);
    expect(b.flat().map((x) => x.line)).toEqual(items.map((x) => x.line));
  });

  it("splits by body size so that no body exceeds 1 MiB, filling each as far as it goes", () => {
    // Real serialised events, ~300 KiB each: three fit in a body, a fourth would not.
    const items = Array.from({ length: 7 }, (_, i) => {
      const json = JSON.stringify({ event_id: `e${i}`, attributes: { blob: "y".repeat(300 * 1024) } });
      return { json, bytes: Buffer.byteLength(json), line: i + 1 };
    });
    const b = toBatches(items, 1000);
    expect(b.map((x) => x.length)).toEqual([3, 3, 1]);
    for (const batch of b) expect(Buffer.byteLength(batchBody(batch))).toBeLessThanOrEqual(MAX_BODY_BYTES);
    // Exactly at the limit is allowed; one byte more starts a new batch.
    const exact = MAX_BODY_BYTES - Buffer.byteLength('{"events":[]}') - 1;
    expect(toBatches([item(exact - 10, 1), item(10, 2)], 1000).map((x) => x.length)).toEqual([2]);
    expect(toBatches([item(exact - 10, 1), item(11, 2)], 1000).map((x) => x.length)).toEqual([1, 1]);
  });
});

describe("JSONL reading", () => {
  const now = Date.parse("2026-06-01T12:00:00Z");
  const ev = (over: Record<string, unknown> = {}) => JSON.stringify({ event_id: "e1", timestamp: "2026-06-01T11:00:00Z", type: "tool_call", action: "a.b", outcome: "success", ...over });

  it("skips blank lines, keeps line numbers, re-serialises compactly", () => {
    const r = parseJsonl(`\uFEFF${ev()}\n\n  \r\n{ "event_id": "e2", "timestamp": "2026-06-01T11:00:00Z", "type": "message", "action": "x", "outcome": "error" }\n`, { validate: true, now });
    expect(r.errors).toEqual([]);
    expect(r.events.map((e) => [e.line, e.eventId])).toEqual([[1, "e1"], [4, "e2"]]);
    expect(r.events[1]!.json).not.toContain(" ");
  });

  it("names the line of every bad event: not JSON, not an object, schema, time window, size", () => {
    const lines = [
      ev(), "{oops", "[1,2]", ev({ amount: -1 }), ev({ timestamp: "2026-04-01T00:00:00Z" }), ev({ timestamp: "2026-06-01T12:10:00Z" }),
      ev({ extra: true }), JSON.stringify({ big: "z".repeat(MAX_BODY_BYTES) }),
    ];
    const r = parseJsonl(lines.join("\n"), { validate: true, now });
    const byLine = (n: number) => r.errors.filter((e) => e.line === n).map((e) => e.message).join(" | ");
    expect(r.errors.map((e) => e.line).filter((n, i, a) => a.indexOf(n) === i)).toEqual([2, 3, 4, 5, 6, 7, 8]);
    expect(byLine(2)).toMatch(/^not JSON/);
    expect(byLine(3)).toBe("not a JSON object (one event per line)");
    expect(byLine(4)).toMatch(/^amount: /);
    expect(byLine(5)).toContain("older than 30 days");
    expect(byLine(6)).toContain("more than 5 minutes in the future");
    expect(byLine(7)).toMatch(/Unrecognized key.*extra/);
    expect(byLine(8)).toContain("exceeds the edge's 1048576-byte request limit");
  });

  it("refuses malformed Unicode locally, naming line and field (the edge would answer 422)", () => {
    const lines = [ev(), '{"event_id":"e2","timestamp":"2026-06-01T11:00:00Z","type":"tool_call","action":"payments.wire\\ud800","outcome":"success"}', ev({ attributes: { note: { deep: "a\udc00" } } })];
    const r = parseJsonl(lines.join("\n"), { validate: true, now });
    expect(r.errors.map((e) => [e.line, e.message.split(":")[0]])).toEqual([[2, "action"], [3, "attributes.note.deep"]]);
    expect(r.errors[0]!.message).toContain("malformed Unicode");
  });

  it("without validation only JSON objects are required", () => {
    const r = parseJsonl([ev({ amount: -1 }), ev({ extra: 1 }), "3"].join("\n"), { validate: false, now });
    expect(r.errors).toEqual([{ line: 3, message: "not a JSON object (one event per line)" }]);
    expect(r.events).toHaveLength(2);
  });
});

describe("progress", () => {
  it("draws a bar in place on a terminal and clears it at the end", () => {
    expect(progressBar(0, 1200)).toBe(`[${".".repeat(30)}]    0/1200 events   0%`);
    expect(progressBar(600, 1200)).toBe(`[${"#".repeat(15)}${".".repeat(15)}]  600/1200 events  50%`);
    expect(progressBar(1200, 1200)).toBe(`[${"#".repeat(30)}] 1200/1200 events 100%`);
    let err = "";
    const io: Io = { out: () => undefined, err: (t) => { err += t; }, raw: () => undefined, rawErr: (t) => { err += t; }, errIsTty: true };
    const p = progress(io, 10, "tty");
    p.update(5);
    p.update(10);
    p.finish();
    expect(err).toBe(`\r${progressBar(5, 10)}\r${progressBar(10, 10)}\r\x1b[K`);
  });

  it("prints a plain line at most once a second when stderr is not a terminal, and nothing when off", () => {
    let t = 0;
    let err = "";
    const io: Io = { out: () => undefined, err: (x) => { err += x; }, raw: () => undefined, rawErr: (x) => { err += x; }, errIsTty: false };
    const p = progress(io, 100, "lines", () => t);
    t = 1000; p.update(10);
    t = 1500; p.update(20);
    t = 2100; p.update(30);
    t = 9000; p.update(100);
    p.finish();
    expect(err).toBe("kakunin: sent 10/100 events\nkakunin: sent 30/100 events\n");
    err = "";
    const off = progress(io, 100, "off");
    off.update(50);
    off.note("retrying");
    off.finish();
    expect(err).toBe("");
  });
});

describe("arguments", () => {
  const spec = { strings: ["name"], lists: ["scope"], booleans: ["json", "quiet"], short: { q: "quiet" }, positionals: ["id", "extra?"] };

  it("reads values in both spellings, repeats, aliases, and positionals after --", () => {
    const a = parse(["x", "--name", "n1", "--name=n2", "--scope", "a", "--scope=b", "-q", "--", "-dash"], spec, "help");
    if (a === "help") throw new Error("unexpected help");
    expect([a.req("id"), a.pos("extra"), a.str("name"), a.list("scope"), a.bool("quiet"), a.bool("json")]).toEqual(["x", "-dash", "n2", ["a", "b"], true, false]);
    expect(parse(["--bogus", "--help"], spec, "help")).toBe("help");
  });

  it("refuses what it does not know, with the reason", () => {
    for (const [argv, msg] of [
      [["x", "--bogus"], "unknown option --bogus"], [["x", "-z"], "unknown option -z"], [["x", "--name"], "--name needs a value"],
      [["x", "--name", "--json"], "--name needs a value"], [["x", "--json=1"], "--json takes no value"], [[], "missing <id>"],
      [["x", "y", "z"], "unexpected argument z"],
    ] as const) {
      let thrown: unknown;
      try {
        parse(argv, spec, "the help");
      } catch (e) {
        thrown = e;
      }
      expect(thrown, argv.join(" ")).toBeInstanceOf(UsageError);
      expect(thrown, argv.join(" ")).toMatchObject({ message: msg, help: "the help" });
    }
  });

  it("durations", () => {
    expect(["90", "90s", "15m", "1h", "1h30m", "2h5s"].map(parseDuration)).toEqual([90, 90, 900, 3600, 5400, 7205]);
    expect(["", "h", "1d", "1.5h", "-1", "1m1h"].map(parseDuration)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});
