import type { SimEvent } from "../sim-event.ts";
import type { BenignType, BenignWindow, EventType } from "../types.ts";
import type { Rng } from "./rng.ts";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** One generated event, labelled with its attack episode or the benign surprise in force. */
export interface Gen {
  ev: SimEvent;
  episode?: string;
  benign?: BenignType;
}

/** A timezone: fixed offset, or one DST change inside the world (offset before `dstEnd`, then `off`). */
export interface Zone {
  name: string;
  off: number;
  dstEnd?: number;
  offBefore?: number;
  region: string;
}

export const ZONES: Record<string, Zone> = {
  utc: { name: "Etc/UTC", off: 0, region: "none" },
  kolkata: { name: "Asia/Kolkata (+05:30)", off: 330, region: "in" },
  singapore: { name: "Asia/Singapore", off: 480, region: "sg" },
  tokyo: { name: "Asia/Tokyo", off: 540, region: "jp" },
  saopaulo: { name: "America/Sao_Paulo", off: -180, region: "br" },
  dubai: { name: "Asia/Dubai", off: 240, region: "none" },
  phoenix: { name: "America/Phoenix", off: -420, region: "us" },
  newyork: { name: "America/New_York (DST ends 2026-11-01)", off: -300, dstEnd: Date.UTC(2026, 10, 1, 6), offBefore: -240, region: "us" },
};

/** Public/bank holidays (local dates) per region, October–November 2026. */
const HOLIDAYS: Record<string, readonly string[]> = {
  us: ["2026-10-12", "2026-11-11", "2026-11-26"],
  in: ["2026-10-02", "2026-10-20", "2026-11-09", "2026-11-24"],
  sg: ["2026-11-09"],
  jp: ["2026-10-12", "2026-11-03", "2026-11-23"],
  br: ["2026-10-12", "2026-11-02", "2026-11-20"],
  none: [],
};

export const offsetMs = (z: Zone, t: number): number => (z.dstEnd !== undefined && t < z.dstEnd ? z.offBefore! : z.off) * 60_000;

/** One local calendar day of an agent. */
export interface Day {
  /** Days since the epoch, local. */
  index: number;
  /** Day number within the agent's history (0 = first). */
  n: number;
  date: string;
  /** 0 = Sunday. */
  dow: number;
  holiday: boolean;
  /** One of the last two business days of the month. */
  monthEnd: boolean;
}

export function localDays(z: Zone, start: number, end: number): Day[] {
  const first = Math.floor((start + offsetMs(z, start)) / DAY);
  const last = Math.floor((end - 1 + offsetMs(z, end - 1)) / DAY);
  const out: Day[] = [];
  const hol = new Set(HOLIDAYS[z.region] ?? []);
  for (let index = first; index <= last; index++) {
    const d = new Date(index * DAY);
    const date = d.toISOString().slice(0, 10);
    const dow = d.getUTCDay();
    // Last two business days of the month: count the business days left after this one.
    let left = 0;
    for (let k = index + 1; ; k++) {
      const dk = new Date(k * DAY);
      if (dk.getUTCMonth() !== d.getUTCMonth()) break;
      if (dk.getUTCDay() !== 0 && dk.getUTCDay() !== 6) left++;
    }
    const business = dow !== 0 && dow !== 6;
    out.push({ index, n: index - first, date, dow, holiday: hol.has(date), monthEnd: business && left < 2 });
  }
  return out;
}

/** A short-lived change of behaviour (a benign window that also alters generation). */
export interface Window {
  start: number;
  end: number;
  factor: number;
}

export interface Ctx {
  id: string;
  r: Rng;
  zone: Zone;
  start: number;
  end: number;
  days: number;
  /** Volume multiplier of this agent (busy 3×, quiet ≈ 0.04). */
  scale: number;
  currency: string;
  /** Permanent shift of working hours from local day `from` (day number n). */
  shift?: { from: number; hours: number };
  /** Tool adopted for good from day number `from`. */
  newTool?: { from: number };
  /** One-off surge day (day number) and its factor. */
  surge?: { day: number; factor: number };
  bigTicket?: { day: number; factor: number };
  latency: Window[];
  errors: Window[];
  benign: BenignWindow[];
  out: Gen[];
  baseError: number;
  pools: Map<string, string[]>;
  serial: number;
  notes: string[];
}

/** UTC ms of a local time on a day, the agent's shift applied. */
export function at(c: Ctx, day: Day, hours: number): number {
  const h = hours + (c.shift && day.n >= c.shift.from ? c.shift.hours : 0);
  const local = day.index * DAY + h * HOUR;
  return local - offsetMs(c.zone, local - c.zone.off * 60_000);
}

/** Local hour of day (0–24) of a UTC time for an agent's zone. */
export const localHour = (z: Zone, t: number): number => ((((t + offsetMs(z, t)) % DAY) + DAY) % DAY) / HOUR;

/** A local hour drawn from 24 hourly weights, uniform within the hour. */
export function drawHour(r: Rng, w: readonly number[]): number {
  let total = 0;
  for (const x of w) total += x;
  let u = r.next() * total;
  for (let h = 0; h < 24; h++) {
    u -= w[h]!;
    if (u < 0) return h + r.next();
  }
  return 23 + r.next();
}

/** A resource from a per-agent pool: a repeat (popular ones more often) or a new id. */
export function resource(c: Ctx, pool: string, prefix: string, pRepeat: number): string {
  let xs = c.pools.get(pool);
  if (!xs) c.pools.set(pool, (xs = []));
  if (xs.length > 0 && c.r.chance(pRepeat)) return xs[Math.floor(xs.length * Math.pow(c.r.next(), 2.5))]!;
  const id = `${prefix}${(c.r.u32() % 9_000_000) + 1_000_000}`;
  xs.push(id);
  return id;
}

export const freshId = (c: Ctx, prefix: string): string => `${prefix}${(c.r.u32() % 9_000_000) + 1_000_000}`;

const inWin = (ws: readonly Window[], t: number): Window | undefined => ws.find((w) => t >= w.start && t < w.end);

export interface EmitOpts {
  resource?: string;
  amount?: number;
  attributes?: Record<string, number | string>;
  latency: number;
  /** Extra error probability for this call. */
  err?: number;
}

/**
 * Emit one call; an error is retried after a heavy-tailed pause (a retry may fail again).
 * Returns the time of the last attempt.
 */
export function emit(c: Ctx, ts: number, type: EventType, action: string, o: EmitOpts): number {
  let t = ts;
  for (let attempt = 0; attempt < 4; attempt++) {
    const lat = inWin(c.latency, t);
    const errw = inWin(c.errors, t);
    const pErr = (c.baseError + (o.err ?? 0)) * (lat ? 2 : 1) + (errw ? errw.factor : 0);
    const failed = c.r.chance(attempt === 0 ? pErr : Math.min(0.6, pErr * 0.5 + (errw ? 0.2 : 0)));
    const latencyMs = Math.round(c.r.lognormal(o.latency, 0.45) * (lat ? lat.factor : 1));
    const ev: SimEvent = { ts: Math.round(t), type, action, outcome: failed ? "error" : "success", latencyMs };
    if (o.resource !== undefined) ev.resource = o.resource;
    if (o.amount !== undefined) {
      ev.amount = Math.round(o.amount * 100) / 100;
      ev.currency = c.currency;
    }
    if (o.attributes !== undefined) ev.attributes = { ...o.attributes };
    c.out.push({ ev });
    if (!failed) return t;
    t += Math.min(c.r.pareto(1500, 1.2), 20 * 60_000) + latencyMs;
  }
  return t;
}

export function addBenign(c: Ctx, type: BenignType, start: number, end: number, detail: string): void {
  c.benign.push({ type, start, end, detail });
}

/** UTC ms of a local wall-clock time on a day, no shift applied. */
export function atLocal(z: Zone, d: Day, hours: number): number {
  const local = d.index * DAY + hours * HOUR;
  return local - offsetMs(z, local - z.off * 60_000);
}
