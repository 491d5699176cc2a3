import type { BenignWindow } from "../types.ts";
import {
  type Arch,
  atLocal,
  DAY,
  type Drawn,
  finish,
  type Gen,
  historyStart,
  hourly,
  isWeekend,
  local,
  localDates,
  MIN,
  type Profile,
  session,
  type Step,
  ZONES,
} from "./model.ts";
import type { Rng } from "./random.ts";

/**
 * compliance-monitor: a nightly batch at 02:00 local ± 15 min (`trades.scan` per desk with
 * `rowsScanned`, `alerts.create` for hits), a full re-scan on the 1st of the month (30× rows, 5 h),
 * and ad-hoc case work (`case.open`/`case.note`/`case.close`) in office hours.
 */
export const COMPLIANCE: Arch = {
  name: "compliance-monitor",
  draw(r, id, end): Drawn {
    const zone = r.pick([ZONES.london, ZONES.newYork, ZONES.singapore, ZONES.frankfurt]);
    const start = historyStart(r, end);
    const desks = r
      .shuffle(["rates", "fx", "equities", "credit", "commodities", "em", "structured", "repo", "munis", "etf", "options", "futures"])
      .slice(0, r.int(3, 10));
    const rowsMedian = 10 ** r.between(4, 5.3);
    const caseRate = r.between(0.1, 0.8);
    const fail = r.between(0.002, 0.01);
    let caseSeq = r.int(100, 9000);
    let alertSeq = r.int(1000, 90000);
    const open: string[] = [];
    const gens: Gen[] = [];
    const benign: BenignWindow[] = [];
    const scan = (rr: Rng, t: number, full: boolean): Gen[] => {
      const steps: Step[] = [];
      for (const desk of full ? [...desks, ...desks, ...desks, ...desks, ...desks] : desks) {
        steps.push({
          action: "trades.scan",
          type: "data_access",
          resource: `desk:${desk}`,
          attributes: { rowsScanned: Math.round(rr.logn(rowsMedian * (full ? 6 : 1), 0.6)) },
          latencyMs: Math.round(rr.logn(full ? 600_000 : 40_000, 0.4)),
        });
        for (let k = rr.poisson(full ? 0.8 : 0.5); k > 0; k--) steps.push({ action: "alerts.create", type: "tool_call", resource: `alert:${alertSeq++}` });
        if (rr.chance(0.02)) steps.push({ action: "alerts.dismiss", type: "tool_call", resource: `alert:${alertSeq - 1}` });
      }
      // A full re-scan runs ~5 h: 5× the desks (each 6× the rows: 30× in all), gaps ~3.5 min.
      return session(rr, t, steps, full ? 180 : 45, fail, full ? "busy_day" : undefined);
    };
    for (const date of localDates(zone, start, end)) {
      const full = date.endsWith("-01");
      const t = atLocal(zone, date, 2) + r.between(-15, 15) * MIN;
      const l = local(zone, t);
      // Weekend runs scan only what settled late: a third of the desks.
      if (isWeekend(l) && !full && r.chance(0.5)) continue;
      gens.push(...scan(r, t, full));
      if (full) benign.push({ type: "busy_day", start: t, end: t + 6 * 3_600_000, detail: "monthly full re-scan: 30× rowsScanned over ~5 h" });
    }
    const holidays = zone.holiday ? [zone.holiday] : [];
    const caseWork = (rr: Rng, t: number): Gen[] => {
      const l = local(zone, t);
      const b = holidays.includes(l.date) ? "holiday_lull" : undefined;
      if (open.length === 0 || rr.chance(0.4)) {
        const c = `case:${caseSeq++}`;
        open.push(c);
        return session(
          rr,
          t,
          [
            { action: "case.open", type: "tool_call", resource: c },
            { action: "case.note", type: "message", resource: c },
          ],
          60,
          fail,
          b,
        );
      }
      const i = rr.int(0, open.length - 1);
      const c = open[i]!;
      const steps: Step[] = [];
      for (let k = rr.int(1, 3); k > 0; k--) steps.push({ action: "case.note", type: "message", resource: c });
      if (rr.chance(0.45)) {
        steps.push({ action: "case.close", type: "tool_call", resource: c });
        open.splice(i, 1);
      }
      return session(rr, t, steps, 90, fail, b);
    };
    const shape = (t: number): number => {
      const l = local(zone, t);
      if (isWeekend(l) || l.h < 9 || l.h >= 17) return 0;
      return caseRate * (holidays.includes(l.date) ? 0.1 : 1);
    };
    gens.push(...hourly(r, start, end, shape, (t) => caseWork(r, t)));
    for (const d of holidays) benign.push({ type: "holiday_lull", start: atLocal(zone, d, 0), end: atLocal(zone, d, 0) + DAY, detail: `holiday ${d}` });
    const p: Profile = {
      id,
      zone,
      start,
      end,
      scopes: ["trades.*", "alerts.*", "case.*"],
      dormant: ["alerts.suppress", "case.delete"],
      foreign: ["wire.send", "hr.records_read", "iam.role_grant"],
      unused: ["trades.lookup", "alerts.escalate", "case.assign", "case.attach", "trades.replay", "alerts.bulk_close", "case.export"],
      top: [
        { action: "trades.scan", type: "data_access", resource: (rr) => `desk:${rr.pick(desks)}` },
        { action: "alerts.create", type: "tool_call", resource: () => `alert:${alertSeq++}` },
        { action: "case.note", type: "message", resource: () => `case:${caseSeq - 1}` },
      ],
      volume: { action: "trades.scan", type: "data_access", key: "rowsScanned", median: rowsMedian },
      rare: { action: "alerts.dismiss", type: "tool_call" },
      task: (rr, t) => scan(rr, t, false),
      impossible: (rr, t) => {
        const c = `case:${caseSeq + 50_000 + rr.int(0, 999)}`;
        return {
          gens: session(
            rr,
            t,
            [
              { action: "case.close", type: "tool_call", resource: c },
              { action: "case.note", type: "message", resource: c },
              { action: "case.open", type: "tool_call", resource: c },
            ],
            30,
            0,
          ),
          what: "case.close, then note, then open of the same case",
        };
      },
      fail,
    };
    return {
      p,
      normal: finish(r, p, gens, benign),
      benign,
      profile: `${zone.name}, ${desks.length} desks, rows ~${Math.round(rowsMedian)}, ${caseRate.toFixed(2)} case tasks/h`,
    };
  },
};
