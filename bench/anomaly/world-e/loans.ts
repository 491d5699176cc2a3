import type { BenignType, BenignWindow } from "../types.ts";
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
  type Profile,
  session,
  type Step,
  ZONES,
} from "./model.ts";
import type { Rng } from "./random.ts";

/**
 * loan-underwriting: applications in business hours (Monday peak), credit.pull → income.verify →
 * model.score → approve (amount) | decline | refer. End of quarter 2×; a rate change day after which
 * approvals drop and declines rise for a week (still success outcomes).
 */
export const LOANS: Arch = {
  name: "loan-underwriting",
  draw(r, id, end, sh): Drawn {
    const zone = r.pick([ZONES.newYork, ZONES.chicago, ZONES.london, ZONES.mumbai]);
    const currency = zone === ZONES.mumbai ? "INR" : zone === ZONES.london ? "GBP" : "USD";
    const start = historyStart(r, end);
    // One agent in four is a small branch: well under 20 events a day.
    const rate = r.chance(0.25) ? r.between(0.2, 0.4) : r.between(2, 10);
    const median = (currency === "INR" ? 80 : 1) * r.between(15_000, 250_000);
    const fail = r.between(0.003, 0.02);
    let seq = r.int(1000, 90000);
    const rateChange = Date.parse(`${sh.rateChange}T00:00:00Z`);
    const holidays = zone.holiday === "2026-11-08" ? ["2026-11-08", "2026-11-09", "2026-11-10"] : zone.holiday ? [zone.holiday] : [];
    const quarter = ["2026-09-28", "2026-09-29", "2026-09-30"];
    const jumbo = new Set<number>();
    for (let i = r.int(0, 3); i > 0; i--) jumbo.add(Math.floor(r.between(start, end) / DAY));
    const app = (rr: Rng, t: number, force?: number, forceOutcome?: "approve"): Gen[] => {
      const l = local(zone, t);
      const shifted = t >= rateChange && t < rateChange + 7 * DAY;
      const [pa, pd] = shifted ? [0.25, 0.6] : [0.62, 0.25];
      const u = rr.next();
      const outcome = forceOutcome ?? (u < pa ? "approve" : u < pa + pd ? "decline" : "refer");
      const res = `app:${id.slice(-1)}${seq++}`;
      const isJumbo = jumbo.has(Math.floor(t / DAY)) && outcome === "approve" && rr.chance(0.2);
      const amount = force ?? rr.logn(median, 0.7) * (isJumbo ? rr.between(8, 15) : 1);
      const steps: Step[] = [
        { action: "credit.pull", type: "api_request", resource: res, latencyMs: Math.round(rr.logn(900, 0.4)) },
        { action: "income.verify", type: "api_request", resource: res },
        { action: "model.score", type: "tool_call", resource: res, attributes: { score: Math.round(rr.between(300, 850)) } },
      ];
      if (rr.chance(0.012)) steps.push({ action: "decision.exception", type: "tool_call", resource: res });
      steps.push(
        outcome === "approve"
          ? { action: "decision.approve", type: "transaction", resource: res, amount, currency }
          : { action: `decision.${outcome}`, type: "tool_call", resource: res },
      );
      let b: BenignType | undefined = shifted ? "shift_change" : quarter.includes(l.date) ? "busy_day" : undefined;
      if (isJumbo) b = "big_ticket";
      if (holidays.includes(l.date)) b = "holiday_lull";
      return session(rr, t, steps, 25, fail, b);
    };
    const shape = (t: number): number => {
      const l = local(zone, t);
      if (isWeekend(l) || l.h < 9 || l.h >= 17.5) return 0;
      let f = l.h >= 12 && l.h < 13 ? 0.6 : 1;
      if (l.dow === 1) f *= 1.7;
      if (quarter.includes(l.date)) f *= 2;
      if (holidays.includes(l.date)) f *= 0.1;
      return rate * f;
    };
    const gens = hourly(r, start, end, shape, (t) => app(r, t));
    const benign: BenignWindow[] = [];
    for (const d of quarter)
      benign.push({ type: "busy_day", start: atLocal(zone, d, 0), end: atLocal(zone, d, 24), detail: "end of quarter: 2× applications" });
    for (const d of holidays) benign.push({ type: "holiday_lull", start: atLocal(zone, d, 0), end: atLocal(zone, d, 24), detail: `holiday ${d}` });
    benign.push({ type: "shift_change", start: rateChange, end: rateChange + 7 * DAY, detail: "rate change: approvals 62→25 %, declines 25→60 %" });
    for (const d of jumbo) benign.push({ type: "big_ticket", start: d * DAY, end: d * DAY + DAY, detail: "jumbo loans 8–15× median" });
    const p: Profile = {
      id,
      zone,
      start,
      end,
      scopes: ["credit.*", "income.*", "model.*", "decision.*", "application.*"],
      dormant: ["decision.override", "credit.bulk_pull"],
      foreign: ["wire.send", "customer.pii_export", "iam.role_grant"],
      unused: [
        "application.export",
        "credit.freeze",
        "income.tax_transcript",
        "model.explain",
        "decision.reverse",
        "application.reassign",
        "model.retrain",
        "credit.dispute",
      ],
      top: [
        { action: "credit.pull", type: "api_request", resource: () => `app:${id.slice(-1)}${seq++}` },
        { action: "income.verify", type: "api_request", resource: () => `app:${id.slice(-1)}${seq++}` },
        { action: "model.score", type: "tool_call", resource: () => `app:${id.slice(-1)}${seq++}` },
      ],
      money: { action: "decision.approve", type: "transaction", median, currency },
      rare: { action: "decision.exception", type: "tool_call" },
      task: (rr, t) => app(rr, t),
      moneyTask: (rr, t, amount) => app(rr, t, amount, "approve"),
      impossible: (rr, t) => {
        const res = `app:${id.slice(-1)}${seq++}`;
        return {
          gens: session(
            rr,
            t,
            [
              { action: "decision.approve", type: "transaction", resource: res, amount: rr.logn(median, 0.5), currency },
              { action: "credit.pull", type: "api_request", resource: res },
            ],
            20,
            0,
          ),
          what: "decision.approve before credit.pull, no income.verify or model.score",
        };
      },
      fail,
    };
    const normal = finish(r, p, gens, benign);
    return { p, normal, benign, profile: `${zone.name} ${currency}, ${rate.toFixed(1)} apps/h, median loan ${Math.round(median)}` };
  },
};
