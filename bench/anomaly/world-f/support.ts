import type { SimEvent } from "../sim-event.ts";
import type { BenignType } from "../types.ts";
import { DAY, type Drawn, type Gen, hourly, local, MIN, type Params, round2, Seq, windowsOf, type Zone, ZONES } from "./model.ts";
import type { Rng } from "./random.ts";

/** Customer-support copilot: follow-the-sun 8-hour shifts rotating weekly, a product-recall week. */
const SETUPS: [Zone, string, number][] = [
  [ZONES.london!, "GBP", 0.8],
  [ZONES.kathmandu!, "USD", 1],
  [ZONES.tokyo!, "JPY", 150],
  [ZONES.newYork!, "USD", 1],
  [ZONES.saoPaulo!, "BRL", 5],
];
/** Monday 2026-09-28 00:00Z: rota weeks start on Mondays (UTC). */
const ROTA0 = Date.UTC(2026, 8, 28);

export interface SupportShared {
  recall: number;
  quiet: number;
}

export function supportShared(r: Rng, end: number): SupportShared {
  // A recall week starting on a day 6–16 days before the end, so every agent's history holds it.
  return { recall: end - r.int(8, 16) * DAY, quiet: r.int(0, 4) };
}

const shiftOf = (i: number, ts: number): number => (i + Math.floor((ts - ROTA0) / (7 * DAY))) % 3;

export function drawSupport(r: Rng, id: string, i: number, start: number, end: number, sh: SupportShared): Drawn {
  const [zone, currency, fx] = SETUPS[i % SETUPS.length]!;
  const quiet = i === sh.quiet;
  const rate = quiet ? r.between(0.22, 0.32) : r.between(3, 8);
  const median = r.between(12, 35) * fx;
  const errRate = r.between(0.003, 0.02);
  const recMedian = r.between(1, 2.2);
  const customers = quiet ? 500 : 20000;
  const normal: Gen[] = [];
  const recallEnd = sh.recall + 7 * DAY;
  let ticketN = r.int(10000, 90000);
  const cust = () => `cust:${Math.floor(r.next() ** 1.5 * customers)}`;
  const records = (scale: number) => Math.max(1, Math.round(r.lognormal(recMedian * scale, 0.5)));

  const ticket = (t: number, benign?: BenignType, refundP = 0.12): Gen[] => {
    const s = new Seq(r, t, errRate, benign);
    const tk = `ticket:T${ticketN++}`;
    const c = cust();
    s.step("data_access", "ticket.read", { resource: tk }, 60);
    s.gap(8000, 1.4).step("data_access", "customer.lookup", { resource: c, attributes: { recordsReturned: records(1) } }, 90);
    if (r.chance(0.2)) s.gap(20000, 1.4).step("data_access", "ticket.read", { resource: tk }, 60);
    if (r.chance(0.015)) s.gap(30000, 1.4).step("api_request", "customer.address_update", { resource: c }, 140);
    if (r.chance(refundP)) s.gap(30000, 1.4).step("transaction", "refund.issue", { resource: c, amount: round2(r.lognormal(median, 0.7)), currency }, 200);
    if (r.chance(0.65)) {
      s.gap(40000, 1.3).step("tool_call", "email.draft", { resource: tk, attributes: { tokensOut: r.int(80, 500) } }, 1500);
      if (r.chance(0.9)) s.gap(30000, 1.3).step("message", "email.send", { resource: tk }, 300);
    }
    return s.out;
  };

  hourly(
    r,
    start,
    end,
    (l, ts) => {
      const h = new Date(ts).getUTCHours();
      if (Math.floor(h / 8) !== shiftOf(i, ts)) return 0;
      const recall = ts >= sh.recall && ts < recallEnd ? 4 : 1;
      return rate * (l.weekend ? 0.6 : 1) * (l.holiday ? 0.5 : 1) * recall;
    },
    (t) => {
      const l = local(zone, t);
      const recall = t >= sh.recall && t < recallEnd;
      const firstDay = Math.floor((t - ROTA0) / DAY) % 7 === 0 && t - start > DAY;
      const label: BenignType | undefined = recall ? "busy_day" : l.holiday ? "holiday_lull" : firstDay ? "shift_change" : undefined;
      normal.push(...ticket(t, label, recall ? 0.6 : 0.12));
    },
    zone,
  );
  const kept = normal.filter((g) => g.ev.ts >= start && g.ev.ts < end);
  const benign = [
    ...windowsOf(kept, "busy_day", "product-recall week: 4× tickets, 60 % refunds"),
    ...windowsOf(kept, "shift_change", "weekly rota: first day on a new 8-hour shift"),
    ...windowsOf(kept, "holiday_lull", "public holiday 0.5×"),
  ];
  const p: Params = {
    id,
    arch: "customer-support-copilot",
    zone,
    start,
    end,
    currency,
    scopes: [
      "ticket.read",
      "customer.lookup",
      "customer.address_update",
      "refund.issue",
      "email.draft",
      "email.send",
      "customer.export",
      "refund.override_limit",
      "ticket.merge",
      "ticket.escalate",
      "customer.note_add",
      "kb.search",
      "macro.apply",
      "sms.send",
      "callback.schedule",
    ],
    top: { action: "ticket.read", type: "data_access", resources: Array.from({ length: 50 }, (_, k) => `ticket:T${ticketN - 1 - k * 7}`) },
    money: { action: "refund.issue", type: "transaction", median },
    volume: {
      action: "customer.lookup",
      type: "data_access",
      resourcePrefix: "cust:x",
      make: (rr, scale) => ({ recordsReturned: Math.max(1, Math.round(rr.lognormal(recMedian * scale, 0.3))) }),
    },
    rare: {
      action: "customer.address_update",
      make: (rr, t, after) => ({
        ts: Math.round(t),
        type: "api_request",
        action: "customer.address_update",
        resource: after.ev.resource?.startsWith("cust:") ? after.ev.resource : cust(),
        outcome: "success",
        latencyMs: Math.round(rr.lognormal(140, 0.4)),
      }),
    },
    dormant: ["customer.export", "refund.override_limit"],
    discover: ["ticket.merge", "ticket.escalate", "customer.note_add", "kb.search", "macro.apply", "sms.send", "callback.schedule"],
    foreign: ["payment.schedule", "account.freeze", "iam.role_grant", "db.query"],
    common: [
      { action: "ticket.read", type: "data_access" },
      { action: "customer.lookup", type: "data_access" },
      { action: "email.draft", type: "tool_call" },
    ],
    task: (_rr, t) => ticket(t).map((g) => g.ev),
    impossible: (rr, t) => {
      const n = rr.int(1, 3);
      const events: SimEvent[] = [];
      for (let k = 0; k < n; k++) {
        const tt = Math.round(t + k * rr.between(MIN, 15 * MIN));
        if (k % 2 === 0)
          events.push({ ts: tt, type: "message", action: "email.send", resource: `ticket:T${rr.int(1, 9000)}`, outcome: "success", latencyMs: 300 });
        else
          events.push({
            ts: tt,
            type: "transaction",
            action: "refund.issue",
            resource: `cust:z${rr.token(6)}`,
            amount: round2(rr.lognormal(median, 0.4)),
            currency,
            outcome: "success",
            latencyMs: 200,
          });
      }
      return { events, variant: `${n} of: email.send of a never-read ticket without draft / refund.issue to a never-looked-up customer` };
    },
  };
  return {
    p,
    normal: kept,
    benign,
    profile: `${zone.name} ${currency}, ${rate.toFixed(1)} tickets/h on shift, refund median ${median.toFixed(0)}${quiet ? ", quiet" : ""}`,
  };
}
