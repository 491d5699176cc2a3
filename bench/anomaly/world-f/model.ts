import type { SimEvent } from "../sim-event.ts";
import type { BenignType, BenignWindow, EventType } from "../types.ts";
import type { Rng } from "./random.ts";

export const SEC = 1000;
export const MIN = 60 * SEC;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;

/** One generated event with its labels (episode id for attacks, benign surprise in force). */
export interface Gen {
  ev: SimEvent;
  episode?: string;
  benign?: BenignType;
}

/** A clock: UTC offset in minutes, changing once at `changeAt` (DST) when given. */
export interface Zone {
  name: string;
  region: string;
  offset: number;
  after?: number;
  changeAt?: number;
}

export const ZONES: Record<string, Zone> = {
  newYork: { name: "America/New_York", region: "US", offset: -240, after: -300, changeAt: Date.UTC(2026, 10, 1, 6) },
  london: { name: "Europe/London", region: "UK", offset: 60, after: 0, changeAt: Date.UTC(2026, 9, 25, 1) },
  saoPaulo: { name: "America/Sao_Paulo", region: "BR", offset: -180 },
  darwin: { name: "Australia/Darwin", region: "AU-NT", offset: 570 },
  sydney: { name: "Australia/Sydney", region: "AU-NSW", offset: 600, after: 660, changeAt: Date.UTC(2026, 9, 3, 16) },
  kathmandu: { name: "Asia/Kathmandu", region: "NP", offset: 345 },
  tokyo: { name: "Asia/Tokyo", region: "JP", offset: 540 },
  berlin: { name: "Europe/Berlin", region: "DE", offset: 120, after: 60, changeAt: Date.UTC(2026, 9, 25, 1) },
};

/** Public holidays (local dates) per region inside 2026-10-01..11-25. */
export const HOLIDAYS: Record<string, readonly string[]> = {
  US: ["2026-10-12", "2026-11-11"],
  UK: [],
  BR: ["2026-10-12", "2026-11-02", "2026-11-20"],
  "AU-NT": [],
  "AU-NSW": ["2026-10-05"],
  NP: ["2026-10-20", "2026-10-21", "2026-11-09", "2026-11-10", "2026-11-11"],
  JP: ["2026-10-12", "2026-11-03", "2026-11-23"],
  DE: [],
};

export const offsetAt = (z: Zone, ts: number): number => (z.changeAt !== undefined && ts >= z.changeAt ? z.after! : z.offset);

export interface Local {
  /** Hour of the local day, fractional. */
  hour: number;
  /** 0 Sunday … 6 Saturday. */
  dow: number;
  ymd: string;
  dom: number;
  month: number;
  year: number;
  holiday: boolean;
  weekend: boolean;
}

export function local(z: Zone, ts: number): Local {
  const d = new Date(ts + offsetAt(z, ts) * MIN);
  const ymd = d.toISOString().slice(0, 10);
  const dow = d.getUTCDay();
  return {
    hour: d.getUTCHours() + d.getUTCMinutes() / 60,
    dow,
    ymd,
    dom: d.getUTCDate(),
    month: d.getUTCMonth(),
    year: d.getUTCFullYear(),
    holiday: HOLIDAYS[z.region]!.includes(ymd),
    weekend: dow === 0 || dow === 6,
  };
}

/** UTC ms of local midnight of a local date (the offset in force at that moment). */
export function localMidnight(z: Zone, ymd: string): number {
  const naive = Date.parse(`${ymd}T00:00:00Z`);
  return naive - offsetAt(z, naive - z.offset * MIN) * MIN;
}

const ymdOf = (y: number, m: number, d: number): string => new Date(Date.UTC(y, m, d)).toISOString().slice(0, 10);

export const isBusinessDay = (z: Zone, ymd: string): boolean => {
  const dow = new Date(`${ymd}T00:00:00Z`).getUTCDay();
  return dow !== 0 && dow !== 6 && !HOLIDAYS[z.region]!.includes(ymd);
};

/** The business day on or before the local date year-month-day. */
export function businessDayOnOrBefore(z: Zone, y: number, m: number, d: number): string {
  for (let k = d; ; k--) {
    const s = ymdOf(y, m, k);
    if (isBusinessDay(z, s)) return s;
  }
}

export const lastBusinessDay = (z: Zone, y: number, m: number): string => businessDayOnOrBefore(z, y, m, new Date(Date.UTC(y, m + 1, 0)).getUTCDate());

/** What every archetype hands the attacks: the agent's parameters and how to make ordinary work. */
export interface Params {
  id: string;
  arch: string;
  zone: Zone;
  start: number;
  end: number;
  scopes: string[];
  currency?: string;
  /** The most frequent action and its type; resources it normally touches. */
  top: { action: string; type: EventType; resources: string[] };
  /** Money action (amount_spike, drift_amount). */
  money?: { action: string; type: EventType; median: number };
  /** Read volume under the archetype's own attribute keys (exfiltration). */
  volume?: { action: string; type: EventType; resourcePrefix: string; make: (r: Rng, scale: number) => Record<string, number> };
  /** A rare ordinary action (drift_mix), with how to make one after an ordinary event. */
  rare?: { action: string; make: (r: Rng, t: number, after: Gen) => SimEvent };
  /** Two in-scope tools never used (dormant_tool). */
  dormant: [string, string];
  /** In-scope tools never used, other than the dormant ones (tool_discovery). */
  discover: string[];
  /** Actions outside the agent's scopes (out_of_scope). */
  foreign: string[];
  /** The three most common actions (error_storm). */
  common: { action: string; type: EventType }[];
  /** One ordinary task starting at t, without benign labels (odd_hours, rate_burst subtle). */
  task: (r: Rng, t: number) => SimEvent[];
  /** An impossible sequence for this archetype starting at t; `variant` describes it. */
  impossible: (r: Rng, t: number) => { events: SimEvent[]; variant: string };
}

export interface Drawn {
  p: Params;
  normal: Gen[];
  benign: BenignWindow[];
  profile: string;
}

/**
 * A sequence of steps with heavy-tailed gaps (Pareto). Each call fails with probability `errRate`
 * and is retried 1.5–9 s later (the retry is an ordinary event too).
 */
export class Seq {
  readonly out: Gen[] = [];
  constructor(
    private r: Rng,
    public t: number,
    private errRate: number,
    private benign?: BenignType,
  ) {}

  gap(xm: number, alpha = 1.5, cap = 20 * MIN): this {
    this.t += this.r.pareto(xm, alpha, cap);
    return this;
  }

  step(type: EventType, action: string, extra: Partial<SimEvent> = {}, latency = 120, retry = true): SimEvent {
    if (retry && this.r.chance(this.errRate)) {
      this.push({
        ts: Math.round(this.t),
        type,
        action,
        latencyMs: Math.round(this.r.lognormal(latency * 4, 0.5)),
        ...extra,
        ...errOverride,
      });
      this.t += this.r.between(1.5 * SEC, 9 * SEC);
    }
    const ev: SimEvent = { ts: Math.round(this.t), type, action, outcome: "success", latencyMs: Math.round(this.r.lognormal(latency, 0.4)), ...extra };
    this.push(ev);
    return ev;
  }

  push(ev: SimEvent): void {
    this.out.push(this.benign ? { ev, benign: this.benign } : { ev });
  }
}

const errOverride = { outcome: "error" as const };

/**
 * Tasks started hour by hour: a Poisson number per UTC hour with the rate `rate(local, ts)`, each
 * at a uniform time inside the hour.
 */
export function hourly(r: Rng, start: number, end: number, rate: (l: Local, ts: number) => number, task: (t: number) => void, z: Zone): void {
  for (let h = start; h < end; h += HOUR) {
    const mid = h + HOUR / 2;
    const n = r.poisson(rate(local(z, mid), mid));
    const ts = Array.from({ length: n }, () => h + r.next() * HOUR).sort((a, b) => a - b);
    for (const t of ts) task(t);
  }
}

/**
 * Platform outages (1–4 h, nothing arrives): events that would have happened inside are replayed
 * right after, 3× faster, labelled outage_catchup. Mutates and returns windows.
 */
export function outages(r: Rng, normal: Gen[], start: number, end: number, count: number): BenignWindow[] {
  const windows: BenignWindow[] = [];
  for (let k = 0; k < count; k++) {
    const s = r.between(start + 3 * DAY, end - 2 * DAY);
    const len = r.between(1, 4) * HOUR;
    let n = 0;
    for (const g of normal)
      if (g.ev.ts >= s && g.ev.ts < s + len) {
        g.ev.ts = Math.round(s + len + 20 * SEC + (g.ev.ts - s) / 3);
        g.benign = "outage_catchup";
        n++;
      }
    windows.push({
      type: "outage_catchup",
      start: s,
      end: s + len + len / 3,
      detail: `platform outage ${(len / HOUR).toFixed(1)} h, ${n} events replayed 3× faster`,
    });
  }
  return windows;
}

/** The benign window of a label over the events that carry it, grouped by local day. */
export function windowsOf(normal: Gen[], type: BenignType, detail: string): BenignWindow[] {
  const evs = normal.filter((g) => g.benign === type).map((g) => g.ev.ts);
  if (evs.length === 0) return [];
  const days = new Map<number, [number, number]>();
  for (const t of evs) {
    const d = Math.floor(t / DAY);
    const w = days.get(d) ?? [t, t];
    days.set(d, [Math.min(w[0], t), Math.max(w[1], t)]);
  }
  return [...days.values()].map(([s, e]) => ({ type, start: s, end: e, detail }));
}

export const round2 = (x: number): number => Math.round(x * 100) / 100;
