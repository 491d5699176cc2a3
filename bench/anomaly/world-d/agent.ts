import type { BenignWindow } from "../types.ts";
import { atLocal, clock, DAY, type Drawn, type Gen, HOUR, labelWindows, outage, type Profile, type Shared, weekend, type Zone } from "./model.ts";
import type { Rand } from "./random.ts";

export interface ProfileParts {
  scopes: string[];
  dormant: [string, string];
  rare: string;
  outOfScope: string[];
  discover: string[];
  allHours?: boolean;
}

/** The parts every agent has: a zone, a 28–42-day history ending at `end`, a retry rate. */
export function baseProfile(r: Rand, id: string, arch: string, end: number, zones: readonly Zone[], shared: Shared, parts: ProfileParts): Profile {
  const zone = r.pick(zones);
  return {
    id,
    arch,
    zone,
    start: end - r.int(28, 42) * DAY,
    end,
    ...parts,
    summerAt: zone.us ? shared.summerAt : undefined,
    allHours: parts.allHours ?? false,
    errRate: r.uniform(0.003, 0.02),
  };
}

/** Busy days: a few random working days with `lo`–`hi` times the usual volume (benign busy_day). */
export function busyDays(r: Rand, p: Profile, n: number, lo: number, hi: number): Map<number, number> {
  const out = new Map<number, number>();
  const first = clock(p, p.start).day;
  const last = clock(p, p.end).day;
  for (let k = 0; k < n; k++) {
    const d = r.int(first + 3, last - 1);
    if (!weekend((((d + 4) % 7) + 7) % 7)) out.set(d, r.uniform(lo, hi));
  }
  return out;
}

/** A benign window over whole local days [d0, d1]. */
export function dayWindow(p: Profile, type: BenignWindow["type"], d0: number, d1: number, detail: string): BenignWindow {
  return { type, start: atLocal(p, d0, 0), end: atLocal(p, d1 + 1, 0), detail };
}

/**
 * Finishes an agent: maybe a platform outage replayed afterwards, the clock changes as benign
 * shift_change windows, only events inside the history, sorted, labelled.
 */
export function finish(r: Rand, p: Profile, evs: Gen[], windows: BenignWindow[], profile: string, allowOutage = true): Drawn {
  const benign = [...windows];
  if (allowOutage && r.chance(0.35)) {
    const busy = evs.filter((g) => g.ev.ts > p.start + 5 * DAY && g.ev.ts < p.end - DAY);
    if (busy.length > 0) benign.push(outage(r, evs, r.pick(busy).ev.ts, r.uniform(1, 4) * HOUR, r.uniform(3, 5)));
  }
  for (const h of p.zone.holidays) {
    const d = Date.parse(`${h}T00:00:00Z`) / DAY;
    if (atLocal(p, d, 0) >= p.start && atLocal(p, d, 0) < p.end) benign.push(dayWindow(p, "holiday_lull", d, d, `public holiday ${h} (${p.zone.name})`));
  }
  if (p.summerAt !== undefined)
    benign.push({ type: "shift_change", start: p.summerAt, end: p.summerAt + 3 * DAY, detail: "company summer hours: the working day one hour earlier" });
  if (p.zone.dstAt !== undefined)
    benign.push({ type: "shift_change", start: p.zone.dstAt, end: p.zone.dstAt + 3 * DAY, detail: "daylight saving starts (Sydney, +1 h)" });
  const normal = evs.filter((g) => g.ev.ts >= p.start && g.ev.ts < p.end).sort((a, b) => a.ev.ts - b.ev.ts);
  labelWindows(normal, benign);
  return { p, normal, benign: benign.filter((b) => b.end >= p.start && b.start < p.end), profile };
}
