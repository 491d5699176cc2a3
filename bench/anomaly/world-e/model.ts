import type { SimEvent } from "../sim-event.ts";
import type { BenignType, BenignWindow, EventType, Outcome } from "../types.ts";
import type { Rng } from "./random.ts";

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** A generated event with its labels: the attack episode id, or the benign surprise in force. */
export interface Gen {
  ev: SimEvent;
  episode?: string;
  benign?: BenignType;
}

/** A clock: UTC offset in minutes at an instant, and the instant it changes (if inside the history). */
export interface Zone {
  name: string;
  offset(ts: number): number;
  change?: number;
  /** Public holiday (local date, YYYY-MM-DD) inside the history, if any. */
  holiday?: string;
}

const fixed = (name: string, min: number, holiday?: string): Zone => ({ name, offset: () => min, holiday });
const dst = (name: string, before: number, after: number, at: number, holiday?: string): Zone => ({
  name,
  offset: (ts) => (ts < at ? before : after),
  change: at,
  holiday,
});

/** US DST ends 2026-11-01 02:00 local; the EU's 2026-10-25 01:00 UTC. India has no DST and a half-hour offset. */
export const ZONES = {
  newYork: dst("America/New_York", -240, -300, Date.UTC(2026, 10, 1, 6), "2026-11-11"),
  chicago: dst("America/Chicago", -300, -360, Date.UTC(2026, 10, 1, 7), "2026-11-11"),
  london: dst("Europe/London", 60, 0, Date.UTC(2026, 9, 25, 1)),
  frankfurt: dst("Europe/Berlin", 120, 60, Date.UTC(2026, 9, 25, 1)),
  mumbai: fixed("Asia/Kolkata", 330, "2026-11-08"),
  singapore: fixed("Asia/Singapore", 480),
  tokyo: fixed("Asia/Tokyo", 540),
} as const satisfies Record<string, Zone>;

export interface Local {
  /** Local hour as a fraction (13.5 = 13:30). */
  h: number;
  /** 0 = Sunday. */
  dow: number;
  date: string;
  /** Day of the month, month (0-based). */
  dom: number;
  month: number;
}

export function local(z: Zone, ts: number): Local {
  const d = new Date(ts + z.offset(ts) * MIN);
  return {
    h: d.getUTCHours() + d.getUTCMinutes() / 60,
    dow: d.getUTCDay(),
    date: d.toISOString().slice(0, 10),
    dom: d.getUTCDate(),
    month: d.getUTCMonth(),
  };
}

/** The UTC instant of a local wall-clock time on a local date (YYYY-MM-DD). */
export function atLocal(z: Zone, date: string, hour: number): number {
  const guess = Date.parse(`${date}T00:00:00Z`) + hour * HOUR;
  return guess - z.offset(guess - z.offset(guess) * MIN) * MIN;
}

/** Local dates from the one containing `start` to the one containing `end`. */
export function localDates(z: Zone, start: number, end: number): string[] {
  const out: string[] = [];
  let d = Date.parse(`${local(z, start).date}T00:00:00Z`);
  const last = Date.parse(`${local(z, end).date}T00:00:00Z`);
  for (; d <= last; d += DAY) out.push(new Date(d).toISOString().slice(0, 10));
  return out;
}

export const isWeekend = (l: Local): boolean => l.dow === 0 || l.dow === 6;

export interface Step {
  action: string;
  type: EventType;
  resource?: string;
  amount?: number;
  currency?: string;
  attributes?: Record<string, number | string>;
  outcome?: Outcome;
  latencyMs?: number;
}

/** Steps of one task from `t`, heavy-tailed gaps (Pareto, median ~ `gap` seconds); failed calls retried. */
export function session(r: Rng, t: number, steps: readonly Step[], gap: number, failRate: number, benign?: BenignType): Gen[] {
  const out: Gen[] = [];
  let now = t;
  for (const s of steps) {
    if (s.outcome === undefined && r.chance(failRate)) {
      out.push({ ev: toSim(now, { ...s, outcome: "error", latencyMs: r.int(2000, 30000) }, r), benign });
      now += r.between(1500, 9000);
    }
    out.push({ ev: toSim(now, s, r), benign });
    now += r.pareto(gap * 0.6, 1.4, gap * 200) * 1000;
  }
  return out;
}

function toSim(ts: number, s: Step, r: Rng): SimEvent {
  const ev: SimEvent = { ts: Math.round(ts), type: s.type, action: s.action, outcome: s.outcome ?? "success" };
  if (s.resource !== undefined) ev.resource = s.resource;
  if (s.amount !== undefined) ev.amount = Math.round(s.amount * 100) / 100;
  if (s.currency !== undefined) ev.currency = s.currency;
  if (s.attributes !== undefined) ev.attributes = s.attributes;
  ev.latencyMs = s.latencyMs ?? Math.round(r.logn(180, 0.6));
  return ev;
}

/**
 * Hour by hour over the history: `rate(t)` tasks expected in the hour starting at t (Poisson), each
 * started at a uniform time in that hour by `task`.
 */
export function hourly(r: Rng, start: number, end: number, rate: (t: number) => number, task: (t: number) => Gen[]): Gen[] {
  const out: Gen[] = [];
  for (let t = Math.floor(start / HOUR) * HOUR; t < end; t += HOUR) {
    const n = r.poisson(rate(t));
    for (let i = 0; i < n; i++) out.push(...task(t + r.next() * HOUR));
  }
  return out;
}

/**
 * A platform outage [from, from+dur): nothing arrives, then the backlog is replayed 3× faster right
 * after, in order, labelled outage_catchup.
 */
export function outage(gens: Gen[], from: number, dur: number): Gen[] {
  const to = from + dur;
  return gens.map((g) =>
    g.ev.ts >= from && g.ev.ts < to && !g.episode ? { ...g, ev: { ...g.ev, ts: Math.round(to + (g.ev.ts - from) / 3) }, benign: "outage_catchup" } : g,
  );
}

/** Labels the events inside a window with a benign type unless they already carry one. */
export function label(gens: Gen[], w: BenignWindow): void {
  for (const g of gens) if (!g.benign && !g.episode && g.ev.ts >= w.start && g.ev.ts < w.end) g.benign = w.type;
}

/** What an archetype gives the attack generators about one agent. */
export interface Profile {
  id: string;
  zone: Zone;
  start: number;
  end: number;
  scopes: string[];
  /** Two in-scope tools declared but never used. */
  dormant: [string, string];
  /** Actions outside every scope. */
  foreign: string[];
  /** In-scope tools never used in normal traffic (tool discovery). */
  unused: string[];
  /** The most frequent actions (error storms, bursts). */
  top: { action: string; type: EventType; resource: (r: Rng) => string }[];
  money?: { action: string; type: EventType; median: number; currency: string };
  volume?: { action: string; type: EventType; key: string; median: number };
  /** A rarely used legitimate action (drift_mix). */
  rare: { action: string; type: EventType };
  /** One ordinary task starting at t (odd_hours). */
  task: (r: Rng, t: number) => Gen[];
  /** Steps of one task out of template order (impossible_sequence). */
  impossible: (r: Rng, t: number) => { gens: Gen[]; what: string };
  /** Usual failure rate of a call. */
  fail: number;
  /** The top actions and the rare one as named at time t (after a rename, e.g. a vendor switch). */
  topAt?: (t: number) => Profile["top"];
  rareAt?: (t: number) => Profile["rare"];
  /** One ordinary task whose money action carries `amount` (amount attacks). */
  moneyTask?: (r: Rng, t: number, amount: number) => Gen[];
}

export interface Drawn {
  p: Profile;
  normal: Gen[];
  benign: BenignWindow[];
  profile: string;
}

export interface Arch {
  name: string;
  draw(r: Rng, id: string, end: number, shared: Shared): Drawn;
}

/** What all agents of an archetype share (from the archetype's own stream). */
export interface Shared {
  /** Vendor switch / other archetype-wide change day (UTC ms of a local midnight-ish). */
  switchAt: number;
  /** Market crash day (YYYY-MM-DD). */
  crash: string;
  /** Rate change day (YYYY-MM-DD). */
  rateChange: string;
}

/** History length: some agents young (20 days), the rest 25–60. */
export function historyStart(r: Rng, end: number): number {
  const days = r.chance(0.25) ? 20 : r.int(25, 60);
  return end - days * DAY;
}

/** Finishes an agent: platform outage on some agents, DST shift labels, holiday label; sorted, clipped. */
export function finish(r: Rng, p: Profile, gens: Gen[], benign: BenignWindow[], outageP = 0.35): Gen[] {
  let out = gens.filter((g) => g.ev.ts >= p.start && g.ev.ts < p.end);
  if (r.chance(outageP)) {
    const from = r.between(p.start + 5 * DAY, p.end - 2 * DAY);
    const dur = r.between(1, 4) * HOUR;
    out = outage(out, from, dur);
    benign.push({
      type: "outage_catchup",
      start: from + dur,
      end: from + dur + dur / 3,
      detail: `platform outage ${(dur / HOUR).toFixed(1)} h, backlog replayed 3× faster`,
    });
  }
  if (p.zone.change !== undefined && p.zone.change > p.start && p.zone.change < p.end) {
    const w: BenignWindow = {
      type: "shift_change",
      start: p.zone.change,
      end: p.zone.change + 3 * DAY,
      detail: `${p.zone.name} DST ends: local clock 1 h later in UTC`,
    };
    benign.push(w);
    label(out, w);
  }
  out = out.filter((g) => g.ev.ts >= p.start && g.ev.ts < p.end);
  return out.sort((a, b) => a.ev.ts - b.ev.ts);
}
