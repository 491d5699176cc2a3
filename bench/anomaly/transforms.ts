import type { AgentEvent } from "@kakunin/shared";
import { scopeCovers } from "@kakunin/shared";
import { Rng } from "../common/rng.ts";
import type { LabelledEvent, SimAgent, Suite } from "./types.ts";

/**
 * Metamorphic transformations of a world (`run.ts --transform <name>`): rewrites of the wire events
 * that an evaluator written to other conventions could send and that should not change what it
 * counts as anomalous. Labels (episodes, benign windows) are kept; each transformation is
 * deterministic (its randomness is seeded by the agent's id). Scoring a world before and after shows
 * which of the scorer's results rest on our own worlds' conventions rather than on the behaviour.
 */
type EventMap = (e: AgentEvent, i: number, rng: Rng) => AgentEvent;

interface Transform {
  what: string;
  /** Rewrites one event (its label and time stay). */
  event?: EventMap;
  /** Rewrites the agent's declared scopes alongside its actions. */
  action?: (a: string) => string;
  /** Reorders the agent's events (arrival order, not time). */
  order?: (events: LabelledEvent[], rng: Rng) => LabelledEvent[];
}

/** The read-volume keys our worlds use (shared/src/events.ts toScoredInput). */
const RECORD_KEYS = ["records", "rows"];
const BYTE_KEYS = ["bytes"];

/** Renames the records keys to `records`, the bytes keys to `bytes` (each: key and value map). */
function volumeAs(records?: (v: number) => [string, number | string], bytes?: (v: number) => [string, number | string]): EventMap {
  return (e) => {
    if (!e.attributes) return e;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(e.attributes)) {
      const map = RECORD_KEYS.includes(k) ? records : BYTE_KEYS.includes(k) ? bytes : undefined;
      if (map && typeof v === "number") {
        const [nk, nv] = map(v);
        out[nk] = nv;
      } else out[k] = v;
    }
    return { ...e, attributes: out };
  };
}

const renameRecords = (key: string): Transform => ({ what: `records → ${key}`, event: volumeAs((v) => [key, v]) });
const renameBytes = (key: string): Transform => ({ what: `bytes → ${key}`, event: volumeAs(undefined, (v) => [key, v]) });

/** RFC 3339 with a fixed offset instead of `Z` (the same instant). */
function withOffset(ts: number, offsetMin: number, fraction: boolean): string {
  const local = new Date(ts + offsetMin * 60_000).toISOString().slice(0, fraction ? 23 : 19);
  const sign = offsetMin < 0 ? "-" : "+";
  const a = Math.abs(offsetMin);
  return `${local}${sign}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}`;
}

const words = (a: string) => a.split(/[._/-]+/).filter((w) => w.length > 0);
const pascal = (a: string) =>
  words(a)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");

export const TRANSFORMS: Record<string, Transform> = {
  none: { what: "unchanged" },
  "records-record_count": renameRecords("record_count"),
  "records-rows_returned": renameRecords("rows_returned"),
  "records-recordCount": renameRecords("recordCount"),
  "records-num_rows": renameRecords("num_rows"),
  "bytes-bytes_read": renameBytes("bytes_read"),
  "bytes-size_bytes": renameBytes("size_bytes"),
  "bytes-responseBytes": renameBytes("responseBytes"),
  "bytes-kb": { what: "bytes → kb_read in KiB", event: volumeAs(undefined, (v) => ["kb_read", Math.round((v / 1024) * 10) / 10]) },
  "volume-strings": {
    what: "records and bytes as numeric strings",
    event: volumeAs(
      (v) => ["records", String(v)],
      (v) => ["bytes", String(v)],
    ),
  },
  "volume-mixed": {
    what: "per event one of several volume spellings (row_count, numRecords, records_read as a string; bytes_read, response_size_bytes, size_mb in MiB)",
    event: (e, i, rng) => {
      const r = ["row_count", "numRecords", "records_read"][rng.int(0, 2)]!;
      const b = rng.int(0, 2);
      return volumeAs(
        (v) => [r, r === "records_read" ? String(v) : v],
        (v) => (b === 0 ? ["bytes_read", v] : b === 1 ? ["response_size_bytes", v] : ["size_mb", v / 1_048_576]),
      )(e, i, rng);
    },
  },
  "action-slash": { what: "actions customers/get", action: (a) => a.replaceAll(".", "/") },
  "action-snake": { what: "actions customers_get", action: (a) => a.replaceAll(".", "_") },
  "action-pascal": { what: "actions CustomersGet", action: pascal },
  "action-upper": { what: "actions CUSTOMERS.GET", action: (a) => a.toUpperCase() },
  "amount-minor": {
    what: "amounts in minor units (×100, integers)",
    event: (e) => (e.amount === undefined ? e : { ...e, amount: Math.round(e.amount * 100) }),
  },
  "ts-offset": { what: "timestamps at +09:00 (same instant)", event: (e) => ({ ...e, timestamp: withOffset(Date.parse(e.timestamp), 540, true) }) },
  "ts-seconds": { what: "timestamps to the second, offset -05:00", event: (e) => ({ ...e, timestamp: withOffset(Date.parse(e.timestamp), -300, false) }) },
  "resource-unique": {
    what: "a unique id appended to every resource (customers/123/req-<n>)",
    event: (e, i) => (e.resource === undefined ? e : { ...e, resource: `${e.resource}/req-${i}` }),
  },
  "resource-coarse": {
    what: "resources cut to their first path segment (a table name)",
    event: (e) => (e.resource === undefined ? e : { ...e, resource: e.resource.split(/[/:]/, 1)[0]! || e.resource }),
  },
  "no-latency": {
    what: "no latency_ms",
    event: (e) => {
      const { latency_ms: _, ...rest } = e;
      return rest;
    },
  },
  "late-arrivals": {
    what: "3% of events arrive after the next 1-20 events (posted late, in a later batch)",
    order: (events, rng) => {
      const out: LabelledEvent[] = [];
      const held: { e: LabelledEvent; due: number }[] = [];
      events.forEach((e, i) => {
        if (rng.chance(0.03)) held.push({ e, due: i + rng.int(1, 20) });
        else out.push(e);
        for (let k = 0; k < held.length; ) {
          if (held[k]!.due <= i) out.push(held.splice(k, 1)[0]!.e);
          else k++;
        }
      });
      out.push(...held.map((h) => h.e));
      return out;
    },
  },
};

/**
 * Declared scopes under an action renaming: an exact scope is renamed; a wildcard (`orders.*`) stays
 * a wildcard when the renaming keeps `.` (the contract's wildcard separator), else it becomes the
 * renamed actions it covered among the agent's events, so every event is in or out of scope as before.
 */
function mapScopes(scopes: readonly string[], actions: ReadonlySet<string>, rename: (a: string) => string): string[] {
  const out = new Set<string>();
  for (const s of scopes) {
    if (s === "*") out.add(s);
    else if (s.endsWith(".*")) {
      const renamed = rename(s.slice(0, -2) + ".x");
      if (renamed.endsWith(".X") || renamed.endsWith(".x")) out.add(renamed.slice(0, -1) + "*");
      else for (const a of actions) if (scopeCovers(s, a)) out.add(rename(a));
    } else out.add(rename(s));
  }
  return [...out];
}

function transformAgent(agent: SimAgent, t: Transform): SimAgent {
  const rng = new Rng(0x5eed).fork(agent.id);
  let events = agent.events.map((l, i): LabelledEvent => {
    let e = l.event;
    if (t.action) e = { ...e, action: t.action(e.action) };
    if (t.event) e = t.event(e, i, rng);
    return { ...l, event: e };
  });
  if (t.order) events = t.order(events, rng);
  const scopes = t.action ? mapScopes(agent.scopes, new Set(agent.events.map((l) => l.event.action)), t.action) : agent.scopes;
  return { ...agent, scopes, events };
}

export function transformSuite(suite: Suite, name: string): Suite {
  const t = TRANSFORMS[name];
  if (!t) throw new Error(`unknown transform '${name}': one of ${Object.keys(TRANSFORMS).join(", ")}`);
  if (name === "none") return suite;
  return { ...suite, agents: suite.agents.map((a) => transformAgent(a, t)) };
}
