import type { Rng } from "../common/rng.ts";

/**
 * When an agent works: 24 local-hour weights times a weekday factor, in the agent's own time zone
 * (fixed offsets: the simulated fortnight never crosses a DST change that would matter here).
 */
export interface Rhythm {
  tzMin: number;
  tzName: string;
  hourly: number[];
  /** Index 0 = Sunday. */
  weekday: number[];
}

export interface LocalTime {
  hour: number;
  minute: number;
  weekday: number;
  /** Local calendar day number since the epoch. */
  day: number;
}

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

export const ZONES: readonly { name: string; min: number }[] = [
  { name: "America/Los_Angeles", min: -480 }, { name: "America/New_York", min: -300 },
  { name: "America/Sao_Paulo", min: -180 }, { name: "Europe/London", min: 0 },
  { name: "Europe/Berlin", min: 60 }, { name: "Europe/Helsinki", min: 120 },
  { name: "Asia/Kolkata", min: 330 }, { name: "Asia/Singapore", min: 480 },
  { name: "Asia/Tokyo", min: 540 }, { name: "Australia/Sydney", min: 600 },
];

export function localTime(ts: number, tzMin: number): LocalTime {
  const l = ts + tzMin * 60_000;
  const day = Math.floor(l / DAY);
  const msOfDay = l - day * DAY;
  // 1970-01-01 was a Thursday (4).
  return { hour: Math.floor(msOfDay / HOUR), minute: Math.floor((msOfDay % HOUR) / 60_000), weekday: (day + 4) % 7, day };
}

/** UTC ms of local midnight of local day `day`. */
export function localMidnight(day: number, tzMin: number): number {
  return day * DAY - tzMin * 60_000;
}

export function weightAt(r: Rhythm, ts: number): number {
  const lt = localTime(ts, r.tzMin);
  return (r.hourly[lt.hour] ?? 0) * (r.weekday[lt.weekday] ?? 0);
}

/** Office hours with a ramp in, a lunch dip and a tail: start/end drawn per agent. */
export function officeHours(rng: Rng, start: [number, number] = [7, 10], end: [number, number] = [17, 20]): number[] {
  const s = rng.int(start[0], start[1]);
  const e = rng.int(end[0], end[1]);
  const lunch = rng.int(12, 13);
  return Array.from({ length: 24 }, (_, h) => {
    if (h < s || h >= e) return 0;
    let w = 1;
    if (h === s) w = 0.45;
    if (h === e - 1) w = 0.5;
    if (h === lunch) w = rng.uniform(0.5, 0.8);
    return w * rng.uniform(0.8, 1.2);
  });
}

/** Exchange session: busiest at the open and the close (the classic U shape). */
export function marketHours(open: number, close: number): number[] {
  return Array.from({ length: 24 }, (_, h) => {
    const cover = Math.max(0, Math.min(h + 1, close) - Math.max(h, open));
    if (cover <= 0) return 0;
    const mid = (open + close) / 2;
    const u = 0.6 + 0.8 * Math.pow((h + 0.5 - mid) / ((close - open) / 2), 2);
    return cover * Math.min(1.5, u);
  });
}

/** One person's day: morning and afternoon blocks and sometimes an evening bump. */
export function wakingHours(rng: Rng): number[] {
  const wake = rng.int(7, 10);
  const sleep = rng.int(21, 24);
  const evening = rng.uniform(0.1, 0.7);
  return Array.from({ length: 24 }, (_, h) => {
    if (h < wake || h >= sleep) return 0;
    if (h >= 18) return evening;
    if (h === 12 || h === 13) return rng.uniform(0.3, 0.6);
    return rng.uniform(0.6, 1.2);
  });
}

/** Around the clock with a mild day/night swing (services that never sleep). */
export function aroundTheClock(rng: Rng, night: number): number[] {
  return Array.from({ length: 24 }, (_, h) => (h >= 8 && h < 20 ? 1 : night) * rng.uniform(0.85, 1.15));
}

export function weekdays(weekend: number): number[] {
  return [weekend, 1, 1, 1, 1, 1, weekend];
}

/** Local hours in which this rhythm never starts work: where odd-hours activity stands out. */
export function deadHours(r: Rhythm): number[] {
  return r.hourly.map((w, h) => (w === 0 ? h : -1)).filter((h) => h >= 0);
}
