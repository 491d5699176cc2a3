import type { BenignType } from "../types.ts";
import {
  businessDayOnOrBefore,
  DAY,
  type Drawn,
  type Gen,
  HOUR,
  hourly,
  isBusinessDay,
  local,
  localMidnight,
  MIN,
  type Params,
  round2,
  SEC,
  Seq,
  windowsOf,
  type Zone,
  ZONES,
} from "./model.ts";
import type { Rng } from "./random.ts";

/** Payroll batch: a trickle most of the month, then a run on the 25th (or the business day before). */
const SETUPS: [Zone, string, number][] = [
  [ZONES.tokyo!, "JPY", 140],
  [ZONES.darwin!, "AUD", 1.6],
  [ZONES.sydney!, "AUD", 1.6],
  [ZONES.london!, "GBP", 0.85],
  [ZONES.newYork!, "USD", 1],
];

export function drawPayroll(r: Rng, id: string, i: number, start: number, end: number): Drawn {
  const [zone, currency, fx] = SETUPS[i % SETUPS.length]!;
  const staff = r.int(120, 600);
  const median = r.between(2500, 6000) * fx;
  const salary = Array.from({ length: staff }, () => round2(r.lognormal(median, 0.4)));
  const perDay = r.between(2, 7);
  const errRate = r.between(0.002, 0.01);
  const emp = (k: number) => `emp:E${1000 + k}`;
  const normal: Gen[] = [];

  const trickle = (t: number, benign?: BenignType): Gen[] => {
    const s = new Seq(r, t, errRate, benign);
    const k = r.int(0, staff - 1);
    s.step("data_access", "employee.read", { resource: emp(k), attributes: { records: r.int(1, 3) } }, 70);
    if (r.chance(0.5)) s.gap(15 * SEC, 1.4).step("tool_call", "payslip.preview", { resource: emp(k) }, 400);
    return s.out;
  };
  const run = (t: number, label: string, amountOf: (k: number) => number, who: number[], benign: BenignType): void => {
    const s = new Seq(r, t, errRate, benign);
    let total = 0;
    for (const k of who) {
      const amount = round2(amountOf(k));
      total += amount;
      s.gap(1.2 * SEC, 2, 30 * SEC).step("transaction", "payment.schedule", { resource: emp(k), amount, currency }, 60);
    }
    s.gap(2 * MIN, 1.5).step("transaction", "payroll.approve", { resource: `run:${label}`, amount: round2(total), currency }, 500);
    normal.push(...s.out);
  };

  hourly(
    r,
    start,
    end,
    (l) => (l.weekend || l.holiday || l.hour < 9 || l.hour >= 17 ? 0 : perDay / 8),
    (t) => normal.push(...trickle(t)),
    zone,
  );
  // Weekends and holidays: nothing at all.
  // Runs: the 25th of each month (or the business day before), starting 07:00–09:00 local.
  const runDays: string[] = [];
  for (let m = 8; m <= 10; m++) {
    const ymd = businessDayOnOrBefore(zone, 2026, m, 25);
    const t = localMidnight(zone, ymd) + r.between(7, 9) * HOUR;
    if (t + 2 * HOUR < start || t >= end) continue;
    runDays.push(ymd);
    run(
      t,
      `2026-${String(m + 1).padStart(2, "0")}`,
      (k) => salary[k]! * r.between(0.98, 1.02),
      Array.from({ length: staff }, (_, k) => k),
      "busy_day",
    );
  }
  // One off-cycle bonus run on a business day mid-history (big_ticket amounts).
  for (let tries = 0; tries < 50; tries++) {
    const t = start + r.between(12, Math.max(13, (end - start) / DAY - 4)) * DAY;
    const l = local(zone, t);
    if (!isBusinessDay(zone, l.ymd) || runDays.includes(l.ymd)) continue;
    const who = r.shuffle(Array.from({ length: staff }, (_, k) => k)).slice(0, Math.round(staff * r.between(0.3, 1)));
    run(localMidnight(zone, l.ymd) + r.between(10, 15) * HOUR, `bonus-${l.ymd}`, (k) => salary[k]! * r.between(0.5, 3), who, "big_ticket");
    break;
  }
  const kept = normal.filter((g) => g.ev.ts >= start && g.ev.ts < end).sort((a, b) => a.ev.ts - b.ev.ts);
  const benign = [
    ...windowsOf(kept, "busy_day", `payroll run: ${staff} payment.schedule + payroll.approve`),
    ...windowsOf(kept, "big_ticket", "off-cycle bonus run"),
  ];
  const p: Params = {
    id,
    arch: "payroll-batch",
    zone,
    start,
    end,
    currency,
    scopes: [
      "employee.read",
      "payslip.preview",
      "payment.schedule",
      "payroll.approve",
      "employee.bank_update",
      "payroll.reverse",
      "employee.search",
      "payslip.email",
      "tax.calculate",
      "pension.contribute",
      "timesheet.read",
      "payment.cancel",
    ],
    top: { action: "employee.read", type: "data_access", resources: Array.from({ length: staff }, (_, k) => emp(k)) },
    money: { action: "payment.schedule", type: "transaction", median },
    volume: {
      action: "employee.read",
      type: "data_access",
      resourcePrefix: "emp:E",
      make: (rr, scale) => ({ records: Math.max(1, Math.round(rr.lognormal(2 * scale, 0.3))) }),
    },
    dormant: ["employee.bank_update", "payroll.reverse"],
    discover: ["employee.search", "payslip.email", "tax.calculate", "pension.contribute", "timesheet.read", "payment.cancel"],
    foreign: ["wire.send", "card.refund", "iam.role_grant", "vendor.create"],
    common: [
      { action: "employee.read", type: "data_access" },
      { action: "payslip.preview", type: "tool_call" },
      { action: "payment.schedule", type: "transaction" },
    ],
    task: (_rr, t) => trickle(t).map((g) => g.ev),
    impossible: (rr, t) => ({
      events: [
        {
          ts: Math.round(t),
          type: "transaction",
          action: "payroll.approve",
          resource: `run:adhoc-${rr.token(5)}`,
          amount: round2(median * staff * rr.between(0.05, 0.3)),
          currency,
          outcome: "success",
          latencyMs: 500,
        },
      ],
      variant: "payroll.approve with no payment.schedule before it (off-cycle, no run)",
    }),
  };
  return { p, normal: kept, benign, profile: `${zone.name} ${currency}, ${staff} employees, median pay ${median.toFixed(0)}, ${perDay.toFixed(1)} reads/day` };
}
