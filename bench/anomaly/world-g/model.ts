import type { SimEvent } from "../sim-event.ts";
import type { BenignType, BenignWindow, EventType, Outcome } from "../types.ts";
import type { Rng } from "./random.ts";

export const H = 3_600_000;
export const DAY = 24 * H;

/** One generated event with its labels (episode id, benign surprise). */
export interface Gen {
  ev: SimEvent;
  episode?: string;
  benign?: BenignType;
}

export interface Tool {
  action: string;
  type: EventType;
}

/** A timezone: base UTC offset (hours) plus one hour before `dstUntil` (summer time ending inside the history). */
export interface Zone {
  name: string;
  base: number;
  dstUntil?: number;
  holidays: string[];
}

export const ZONES: Zone[] = [
  { name: "America/New_York", base: -5, dstUntil: Date.UTC(2026, 10, 1, 6), holidays: ["2026-10-12", "2026-11-11", "2026-11-26", "2026-11-27"] },
  { name: "Europe/London", base: 0, dstUntil: Date.UTC(2026, 9, 25, 1), holidays: [] },
  { name: "Europe/Berlin", base: 1, dstUntil: Date.UTC(2026, 9, 25, 1), holidays: ["2026-10-03", "2026-11-18"] },
  { name: "Asia/Tokyo", base: 9, holidays: ["2026-10-12", "2026-11-03", "2026-11-23"] },
  { name: "Pacific/Auckland", base: 13, holidays: ["2026-10-26"] },
  { name: "Asia/Kolkata", base: 5.5, holidays: ["2026-10-20", "2026-11-09"] },
  { name: "Asia/Singapore", base: 8, holidays: ["2026-11-09"] },
  { name: "America/Chicago", base: -6, dstUntil: Date.UTC(2026, 10, 1, 7), holidays: ["2026-11-11", "2026-11-26"] },
];

/** Everything an archetype's agent needs to lay out its days. */
export interface Profile {
  id: string;
  kind: string;
  zone: Zone;
  start: number;
  end: number;
  scopes: string[];
  tools: Tool[];
  /** Declared, in scope, never used in normal traffic. */
  dormant: Tool[];
  /** Out of scope for this agent. */
  foreign: Tool[];
  /** The action that carries amounts, its currency and median. */
  money?: { tool: Tool; median: number; currency: string; resource: (r: Rng) => string };
  /** The action that carries volume, its attribute key and median per event. */
  volume?: { tool: Tool; key: string; median: number; resource: (r: Rng) => string };
  /** Local hours it is normally active in [from, to). */
  hours: [number, number];
  /** An impossible-sequence event generator (one event). */
  orphan: (r: Rng, ts: number) => SimEvent;
  /** Shift in hours (travel) by ts. */
  shift: (ts: number) => number;
}

export function offsetAt(z: Zone, ts: number): number {
  return z.base + (z.dstUntil !== undefined && ts < z.dstUntil ? 1 : 0);
}

/** UTC ms of local midnight of local day `d` (days since epoch in local terms) plus `h` local hours. */
export function localToUtc(p: Profile, d: number, h: number): number {
  const guess = d * DAY + h * H;
  const off = offsetAt(p.zone, guess - p.zone.base * H) + p.shift(guess - p.zone.base * H);
  return guess - off * H;
}

export function localDay(p: Profile, ts: number): number {
  return Math.floor((ts + (offsetAt(p.zone, ts) + p.shift(ts)) * H) / DAY);
}

export function localHour(p: Profile, ts: number): number {
  const off = offsetAt(p.zone, ts) + p.shift(ts);
  return ((((ts + off * H) % DAY) + DAY) % DAY) / H;
}

export const isoDay = (d: number): string => new Date(d * DAY).toISOString().slice(0, 10);
/** 0 = Sunday. */
export const weekday = (d: number): number => new Date(d * DAY).getUTCDay();
export const isHoliday = (p: Profile, d: number): boolean => p.zone.holidays.includes(isoDay(d));
export const isBusiness = (p: Profile, d: number): boolean => weekday(d) !== 0 && weekday(d) !== 6 && !isHoliday(p, d);

/** Appends an event, and (for an error) usually its retry a few seconds to minutes later. */
export function emit(r: Rng, out: Gen[], g: Gen): void {
  out.push(g);
  if (g.ev.outcome === "error" && r.chance(0.7)) {
    const tries = r.int(1, 3);
    let t = g.ev.ts;
    for (let k = 0; k < tries; k++) {
      t += Math.round(r.between(2_000, 90_000) * 2 ** k);
      const outcome: Outcome = k === tries - 1 || r.chance(0.6) ? "success" : "error";
      out.push({ ...g, ev: { ...g.ev, ts: t, outcome, latencyMs: Math.round(r.logNormal(300, 0.6)) } });
      if (outcome === "success") break;
    }
  }
}

/** Heavy-tailed gap in ms (Pareto, minimum `minS` seconds, capped). */
export const gap = (r: Rng, minS: number, alpha = 1.4, capS = 3600): number => Math.round(Math.min(r.pareto(minS, alpha), capS) * 1000);

export const latency = (r: Rng, median: number): number => Math.max(1, Math.round(r.logNormal(median, 0.5)));

export const ev = (ts: number, tool: Tool, outcome: Outcome, extra: Partial<SimEvent> = {}): SimEvent => ({
  ts: Math.round(ts),
  type: tool.type,
  action: tool.action,
  outcome,
  ...extra,
});

export interface Drawn {
  p: Profile;
  normal: Gen[];
  benign: BenignWindow[];
  profile: string;
}

/** Picks a 2-day outage in the middle of history; returns it with a catch-up factor, or undefined. */
export function drawOutage(r: Rng, start: number, end: number, p: number): { from: number; to: number } | undefined {
  if (!r.chance(p)) return undefined;
  const days = Math.floor((end - start) / DAY);
  if (days < 16) return undefined;
  const d0 = Math.floor(start / DAY) + r.int(5, days - 8);
  return { from: d0 * DAY, to: (d0 + 2) * DAY };
}
