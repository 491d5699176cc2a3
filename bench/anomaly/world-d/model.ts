import type { SimEvent } from "../sim-event.ts";
import type { BenignType, BenignWindow } from "../types.ts";
import type { Rand } from "./random.ts";

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** A generated event with its labels: `episode` for attack events, `benign` for a benign surprise in force. */
export interface Gen {
  ev: SimEvent;
  episode?: string;
  benign?: BenignType;
}

/** Where an agent works: its clock (summer time as in force over the history) and its public holidays. */
export interface Zone {
  name: string;
  offsetH: number;
  /** A US office: the company-wide "summer hours" shift applies. */
  us: boolean;
  holidays: readonly string[];
  /** A daylight-saving change inside the history (Sydney: 2026-10-04 02:00 local, +1 h). */
  dstAt?: number;
}

export const ZONES = {
  london: { name: "Europe/London", offsetH: 1, us: false, holidays: ["2026-08-31"] },
  berlin: { name: "Europe/Berlin", offsetH: 2, us: false, holidays: ["2026-10-03"] },
  newyork: { name: "America/New_York", offsetH: -4, us: true, holidays: ["2026-09-07"] },
  chicago: { name: "America/Chicago", offsetH: -5, us: true, holidays: ["2026-09-07"] },
  singapore: { name: "Asia/Singapore", offsetH: 8, us: false, holidays: ["2026-08-31"] },
  manila: { name: "Asia/Manila", offsetH: 8, us: false, holidays: ["2026-08-31"] },
  tokyo: { name: "Asia/Tokyo", offsetH: 9, us: false, holidays: ["2026-09-21", "2026-09-22", "2026-09-23"] },
  sydney: { name: "Australia/Sydney", offsetH: 10, us: false, holidays: [], dstAt: Date.UTC(2026, 9, 3, 16) },
} as const satisfies Record<string, Zone>;

export interface Profile {
  id: string;
  arch: string;
  zone: Zone;
  start: number;
  end: number;
  scopes: string[];
  /** Two declared tools (covered by the scopes) that normal work never calls. */
  dormant: [string, string];
  /** A legitimate action normal work calls about 1 % of the time. */
  rare: string;
  /** Actions no scope of the agent covers. */
  outOfScope: string[];
  /** In-scope tools normal work never calls (tool discovery). */
  discover: string[];
  /** From this instant the working day runs one hour earlier (US company summer hours). */
  summerAt?: number;
  /** Works around the clock: no hour of the week is odd for it. */
  allHours: boolean;
  /** Share of calls that fail and are retried seconds later. */
  errRate: number;
}

/** Offset of the agent's working clock from UTC at `ts`, in hours. */
export function offsetH(p: Profile, ts: number): number {
  return p.zone.offsetH + (p.zone.dstAt !== undefined && ts >= p.zone.dstAt ? 1 : 0) + (p.summerAt !== undefined && ts >= p.summerAt ? 1 : 0);
}

export interface Clock {
  /** Local day number (days since 1970-01-01 on the local calendar). */
  day: number;
  hour: number;
  hourF: number;
  /** 0 = Sunday. */
  dow: number;
}

export function clock(p: Profile, ts: number): Clock {
  const l = ts + offsetH(p, ts) * HOUR;
  const day = Math.floor(l / DAY);
  const hourF = (l - day * DAY) / HOUR;
  return { day, hour: Math.floor(hourF), hourF, dow: (((day + 4) % 7) + 7) % 7 };
}

/** UTC instant of local `hourF` on local `day`. */
export function atLocal(p: Profile, day: number, hourF: number): number {
  const guess = day * DAY + hourF * HOUR - p.zone.offsetH * HOUR;
  return day * DAY + hourF * HOUR - offsetH(p, guess) * HOUR;
}

export const dayKey = (day: number): string => new Date(day * DAY).toISOString().slice(0, 10);
export const weekend = (dow: number): boolean => dow === 0 || dow === 6;
export const holiday = (p: Profile, day: number): boolean => p.zone.holidays.includes(dayKey(day));

/** Local days of the history, in order. */
export function days(p: Profile): number[] {
  const out: number[] = [];
  for (let d = clock(p, p.start).day; d <= clock(p, p.end).day; d++) out.push(d);
  return out;
}

/** Last working day of each calendar month in the history. */
export function monthEnds(p: Profile): number[] {
  const ds = days(p).filter((d) => !weekend((((d + 4) % 7) + 7) % 7) && !holiday(p, d));
  return ds.filter((d, i) => {
    const n = ds[i + 1];
    return n !== undefined ? dayKey(n).slice(0, 7) !== dayKey(d).slice(0, 7) : dayKey(d + 1).slice(8) === "01";
  });
}

/** The first `n` working days of each month whose first day lies inside the history. */
export function monthStarts(p: Profile, n: number): number[] {
  const first = dayKey(clock(p, p.start).day);
  const ds = days(p).filter((d) => !weekend((((d + 4) % 7) + 7) % 7) && !holiday(p, d));
  return ds.filter((d) => {
    const m = dayKey(d).slice(0, 7);
    return `${m}-01` >= first && ds.filter((x) => x < d && dayKey(x).slice(0, 7) === m).length < n;
  });
}

/** Stable per-action base latency (ms), so each tool has its own speed. */
function baseLatency(action: string): number {
  let h = 2166136261;
  for (const c of action) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return 25 + (h % 900);
}

export const latency = (r: Rand, action: string): number => Math.round(r.lognormal(baseLatency(action), 0.45));

/** Heavy-tailed gap between steps of a task (ms): Pareto, capped. */
export const gap = (r: Rand, xmS: number, alpha: number, capS: number): number => Math.round(Math.min(r.pareto(xmS, alpha), capS) * 1000);

/** Collects one agent's events; a success may first fail and be retried seconds later (the same call twice). */
export class Out {
  readonly evs: Gen[] = [];
  constructor(
    private readonly r: Rand,
    private readonly p: Profile,
  ) {}

  /** Adds a step and returns when it finished. */
  step(ev: Omit<SimEvent, "latencyMs" | "outcome"> & { outcome?: SimEvent["outcome"]; latencyMs?: number }): number {
    let e: SimEvent = { outcome: "success", latencyMs: latency(this.r, ev.action), ...ev };
    if (e.outcome === "success" && this.r.chance(this.p.errRate)) {
      this.evs.push({ ev: { ...e, outcome: "error", latencyMs: Math.round(this.r.uniform(2000, 30000)) } });
      e = { ...e, ts: e.ts + Math.round(this.r.uniform(1500, 9000)) };
    }
    this.evs.push({ ev: e });
    return e.ts + (e.latencyMs ?? 0);
  }
}

/** Poisson task starts hour by hour: rate × shape(local hour, weekday) × per-agent jitter × day factor. */
export function hourly(
  r: Rand,
  p: Profile,
  rate: number,
  shape: (hour: number, dow: number) => number,
  dayFactor: (day: number, dow: number) => number,
  task: (t: number) => void,
): void {
  const jitter = Array.from({ length: 168 }, () => r.lognormal(1, 0.25));
  for (let t = Math.ceil(p.start / HOUR) * HOUR; t < p.end; t += HOUR) {
    const c = clock(p, t);
    const w = shape(c.hour, c.dow) * jitter[c.dow * 24 + c.hour]! * dayFactor(c.day, c.dow);
    const n = r.poisson(rate * w);
    for (let k = 0; k < n; k++) task(t + Math.floor(r.next() * HOUR));
  }
}

/** Labels every unlabelled event inside a window with the window's type (first window wins). */
export function labelWindows(evs: Gen[], windows: readonly BenignWindow[]): void {
  for (const g of evs) {
    if (g.benign) continue;
    const w = windows.find((x) => g.ev.ts >= x.start && g.ev.ts <= x.end);
    if (w) g.benign = w.type;
  }
}

/**
 * A platform outage: nothing is sent for `dur`, then the backlog is replayed `speed` times faster
 * right after, in order (benign outage_catchup).
 */
export function outage(r: Rand, evs: Gen[], from: number, dur: number, speed: number): BenignWindow {
  const to = from + dur;
  for (const g of evs)
    if (g.ev.ts >= from && g.ev.ts < to) {
      g.ev = { ...g.ev, ts: to + Math.round((g.ev.ts - from) / speed) + r.int(0, 500) };
      g.benign = "outage_catchup";
    }
  return {
    type: "outage_catchup",
    start: from,
    end: to + dur / speed,
    detail: `outage ${(dur / HOUR).toFixed(1)} h, backlog replayed ${speed.toFixed(1)}× faster`,
  };
}

export interface Drawn {
  p: Profile;
  normal: Gen[];
  benign: BenignWindow[];
  profile: string;
}

/** What every agent of an archetype shares: a tool rollout day, company summer hours, team vacations. */
export interface Shared {
  rolloutAt: number;
  summerAt: number;
  /** Start of each team's two-week vacation (helpdesk). */
  vacation: number[];
}
