import type { SimEvent } from "../sim-event.ts";
import type { BenignType } from "../types.ts";
import { DAY, type Drawn, type Gen, HOUR, hourly, local, MIN, type Params, SEC, Seq, windowsOf, type Zone, ZONES } from "./model.ts";
import type { Rng } from "./random.ts";

/** Fraud investigator: bursty case work in office hours, weekly SAR filing, occasional huge histories. */
const SETUPS: Zone[] = [ZONES.london!, ZONES.newYork!, ZONES.kathmandu!, ZONES.darwin!, ZONES.berlin!];
const DAYCURVE = (h: number): number => (h < 8 || h >= 19 ? 0 : h >= 12 && h < 13 ? 0.5 : h >= 18 ? 0.4 : 1);

export function drawFraud(r: Rng, id: string, i: number, start: number, end: number, quietIdx: number): Drawn {
  const zone = SETUPS[i % SETUPS.length]!;
  const quiet = i === quietIdx;
  const rate = quiet ? r.between(0.12, 0.2) : r.between(0.5, 1.4);
  const resMedian = r.between(20, 200);
  const errRate = r.between(0.005, 0.02);
  const normal: Gen[] = [];
  let caseN = r.int(1000, 9000);
  const accounts = 40000;
  const acct = () => `acct:${r.int(1, accounts)}`;
  const search = (scale: number, rr: Rng = r) => {
    const resultCount = Math.max(0, Math.round(rr.lognormal(resMedian * scale, 1)));
    return { resultCount, bytesRead: Math.round(resultCount * rr.lognormal(1100, 0.2) + 400) };
  };
  // Day-level burstiness: some days pile up cases, some are quiet.
  const dayMult = new Map<string, number>();
  const mult = (ymd: string) => {
    if (!dayMult.has(ymd)) dayMult.set(ymd, r.chance(0.15) ? r.between(2, 4) : r.lognormal(0.8, 0.5));
    return dayMult.get(ymd)!;
  };
  const bigDays = new Set<string>();
  const bigCount = quiet ? 0 : r.int(1, 2);
  const sarWeeks = new Set<number>();

  const work = (t: number, benign?: BenignType, big = false, sar = false): Gen[] => {
    const s = new Seq(r, t, errRate, benign);
    const c = `case:C${caseN++}`;
    s.step("tool_call", "case.open", { resource: c }, 80);
    const n = r.int(2, 10);
    const accts = Array.from({ length: r.int(1, 3) }, acct);
    const bigAt = big ? r.int(0, n - 1) : -1;
    for (let k = 0; k < n; k++)
      s.gap(20 * SEC, 1.2, 15 * MIN).step("data_access", "txn.search", { resource: r.pick(accts), attributes: search(k === bigAt ? 50 : 1) }, 400);
    if (r.chance(0.18)) {
      const a = r.pick(accts);
      s.gap(MIN, 1.3).step("api_request", "account.freeze", { resource: a }, 150);
      if (r.chance(0.45)) {
        const back = s.t;
        s.t += r.between(1, 30) * HOUR;
        const l = local(zone, s.t);
        if (l.hour >= 8 && l.hour < 19 && !l.weekend) s.step("api_request", "account.unfreeze", { resource: a }, 150);
        s.t = back;
      }
    }
    if (sar) s.gap(5 * MIN, 1.3).step("transaction", "sar.file", { resource: c, attributes: { pages: r.int(3, 20) } }, 900);
    if (r.chance(0.7)) s.gap(2 * MIN, 1.3).step("tool_call", "case.close", { resource: c }, 80);
    return s.out;
  };

  hourly(
    r,
    start,
    end,
    (l) => rate * DAYCURVE(Math.floor(l.hour)) * (l.weekend ? 0.05 : 1) * (l.holiday ? 0.1 : 1) * mult(l.ymd),
    (t) => {
      const l = local(zone, t);
      const week = Math.floor((t - start) / (7 * DAY));
      const sar = !sarWeeks.has(week) && !l.weekend && l.dow >= 2 && r.chance(0.25);
      if (sar) sarWeeks.add(week);
      const big = bigDays.size < bigCount && t > start + 5 * DAY && !bigDays.has(l.ymd) && r.chance(0.01);
      if (big) bigDays.add(l.ymd);
      normal.push(...work(t, big ? "big_ticket" : l.holiday ? "holiday_lull" : undefined, big, sar));
    },
    zone,
  );
  const kept = normal.filter((g) => g.ev.ts >= start && g.ev.ts < end).sort((a, b) => a.ev.ts - b.ev.ts);
  const benign = [...windowsOf(kept, "big_ticket", "one case pulls a 50× transaction history"), ...windowsOf(kept, "holiday_lull", "public holiday 0.1×")];
  const p: Params = {
    id,
    arch: "fraud-investigator",
    zone,
    start,
    end,
    scopes: [
      "case.open",
      "case.close",
      "txn.search",
      "account.freeze",
      "account.unfreeze",
      "sar.file",
      "account.close",
      "sar.withdraw",
      "device.lookup",
      "ip.geolocate",
      "case.assign",
      "watchlist.check",
      "chargeback.lookup",
      "account.limit_set",
    ],
    top: { action: "txn.search", type: "data_access", resources: Array.from({ length: 60 }, acct) },
    volume: { action: "txn.search", type: "data_access", resourcePrefix: "acct:x", make: (rr, scale) => search(scale, rr) },
    rare: {
      action: "account.freeze",
      make: (rr, t, after) => ({
        ts: Math.round(t),
        type: "api_request",
        action: "account.freeze",
        resource: after.ev.resource?.startsWith("acct:") ? after.ev.resource : acct(),
        outcome: "success",
        latencyMs: Math.round(rr.lognormal(150, 0.4)),
      }),
    },
    dormant: ["account.close", "sar.withdraw"],
    discover: ["device.lookup", "ip.geolocate", "case.assign", "watchlist.check", "chargeback.lookup", "account.limit_set"],
    foreign: ["card.refund", "payment.schedule", "customer.export", "iam.role_grant"],
    common: [
      { action: "txn.search", type: "data_access" },
      { action: "case.open", type: "tool_call" },
      { action: "case.close", type: "tool_call" },
    ],
    task: (_rr, t) => work(t).map((g) => g.ev),
    impossible: (rr, t) => {
      const events: SimEvent[] = [
        {
          ts: Math.round(t),
          type: "transaction",
          action: "sar.file",
          resource: `case:C${rr.int(100000, 999999)}`,
          outcome: "success",
          latencyMs: 900,
          attributes: { pages: rr.int(3, 20) },
        },
      ];
      const both = rr.chance(0.5);
      if (both)
        events.push({
          ts: Math.round(t + rr.between(MIN, 20 * MIN)),
          type: "api_request",
          action: "account.unfreeze",
          resource: `acct:${rr.int(50000, 99999)}`,
          outcome: "success",
          latencyMs: 150,
        });
      return { events, variant: both ? "sar.file without case.open + account.unfreeze of a never-frozen account" : "sar.file for a never-opened case" };
    },
  };
  return { p, normal: kept, benign, profile: `${zone.name}, ${rate.toFixed(2)} cases/h, resultCount ~${resMedian.toFixed(0)}${quiet ? ", quiet" : ""}` };
}
