import type { SimEvent } from "../sim-event.ts";
import type { BenignWindow } from "../types.ts";
import {
  type Drawn,
  type Gen,
  HOUR,
  type Local,
  lastBusinessDay,
  local,
  MIN,
  type Params,
  round2,
  SEC,
  Seq,
  type Zone,
  ZONES,
  hourly,
  windowsOf,
} from "./model.ts";
import type { Rng } from "./random.ts";

/** Card-payments router: authorisations around the clock, payday peaks, a card-network outage day. */
const CURVE = [0.08, 0.05, 0.04, 0.04, 0.05, 0.1, 0.25, 0.45, 0.6, 0.7, 0.8, 0.9, 1, 0.95, 0.85, 0.8, 0.85, 0.95, 1, 0.9, 0.7, 0.5, 0.3, 0.15];
const WEEK = [0.8, 0.95, 0.95, 1, 1.05, 1.2, 1.15];
const MCC: [string, number, number][] = [
  ["mcc:5411", 30, 1],
  ["mcc:5812", 18, 0.8],
  ["mcc:5541", 12, 1.2],
  ["mcc:5999", 8, 1.5],
  ["mcc:4121", 7, 0.6],
  ["mcc:5732", 4, 6],
  ["mcc:5912", 6, 0.7],
  ["mcc:7011", 3, 8],
  ["mcc:4511", 2, 12],
  ["mcc:5311", 10, 1.6],
];
const SETUPS: [Zone, string, number][] = [
  [ZONES.newYork!, "USD", 1],
  [ZONES.london!, "GBP", 0.8],
  [ZONES.saoPaulo!, "BRL", 5],
  [ZONES.darwin!, "AUD", 1.5],
  [ZONES.sydney!, "AUD", 1.5],
];

export interface CardShared {
  outageAt: number;
  quiet: number;
}

export function cardShared(r: Rng, end: number): CardShared {
  // Inside every card agent's history (all ≥ 21 days): 3–18 days before the end, 09:00–20:00 UTC.
  return { outageAt: end - r.int(3, 18) * 24 * HOUR + Math.round(r.between(9, 20) * HOUR), quiet: r.int(0, 4) };
}

export function drawCards(r: Rng, id: string, i: number, start: number, end: number, sh: CardShared): Drawn {
  const [zone, currency, fx] = SETUPS[i % SETUPS.length]!;
  const quiet = i === sh.quiet;
  const peak = quiet ? r.between(0.3, 0.45) : r.between(10, 26);
  const median = r.between(22, 55) * fx;
  const decline = r.between(0.03, 0.12);
  const errRate = r.between(0.002, 0.01);
  const mccW = MCC.map(([, w]) => w * r.between(0.4, 1.6));
  const cards = quiet ? 300 : 6000;
  const normal: Gen[] = [];
  const outageEnd = sh.outageAt + 40 * MIN;
  const failed: number[] = [];
  const paydays = (l: Local) => l.dom === 1 || l.dom === 15 || l.ymd === lastBusinessDay(zone, l.year, l.month);

  const card = () => `tok_${id.length}${Math.floor(r.next() ** 2 * cards)}`;
  const authorise = (t: number, benign?: Gen["benign"]) => {
    const s = new Seq(r, t, errRate, benign);
    const k = r.weighted(mccW);
    const [mcc, , f] = MCC[k]!;
    const amount = round2(Math.max(0.5, r.lognormal(median * f, 0.85)));
    const tok = card();
    const auth = `A${r.token(10)}`;
    if (r.chance(decline)) {
      s.push({
        ts: Math.round(t),
        type: "transaction",
        action: "card.authorize",
        resource: mcc,
        amount,
        currency,
        outcome: "denied",
        latencyMs: Math.round(r.lognormal(180, 0.4)),
        attributes: { card: tok, decline: r.pick(["05", "51", "54", "61", "65"]) },
      });
      return s.out;
    }
    const a = s.step("transaction", "card.authorize", { resource: mcc, amount, currency, attributes: { card: tok, auth } }, 180);
    const u = r.next();
    if (u < 0.05) {
      s.t = a.ts + r.between(30 * SEC, 30 * MIN);
      s.step("api_request", "card.void", { resource: mcc, attributes: { card: tok, auth } }, 90);
    } else if (u < 0.93) {
      s.t = a.ts + r.lognormal(40 * MIN, 1.2);
      const cap = s.step("transaction", "card.capture", { resource: mcc, amount, currency, attributes: { card: tok, auth } }, 110);
      if (r.chance(0.025)) {
        s.t = cap.ts + r.between(1, 72) * HOUR;
        const back = r.chance(0.5) ? amount : round2(amount * r.between(0.1, 0.95));
        s.step("transaction", "card.refund", { resource: mcc, amount: back, currency, attributes: { card: tok, auth } }, 150);
      }
    }
    return s.out;
  };

  hourly(
    r,
    start,
    end,
    (l) => peak * CURVE[Math.floor(l.hour)]! * WEEK[l.dow]! * (paydays(l) ? 1.7 : 1) * (l.holiday ? 0.6 : 1),
    (t) => {
      const l = local(zone, t);
      if (t >= sh.outageAt && t < outageEnd) {
        // Card network down: every attempt errors, the terminal retries once or twice, then gives up.
        const tok = card();
        const k = r.weighted(mccW);
        const amount = round2(r.lognormal(median * MCC[k]![2], 0.85));
        for (let n = 0, tt = t; n < r.int(2, 3); n++, tt += r.between(4, 30) * SEC)
          normal.push({
            ev: {
              ts: Math.round(tt),
              type: "transaction",
              action: "card.authorize",
              resource: MCC[k]![0],
              amount,
              currency,
              outcome: "error",
              latencyMs: Math.round(r.between(9000, 15000)),
              attributes: { card: tok },
            },
            benign: "outage_catchup",
          });
        if (r.chance(0.45)) failed.push(t);
        return;
      }
      normal.push(...authorise(t, l.holiday ? "holiday_lull" : paydays(l) ? "busy_day" : undefined));
    },
    zone,
  );
  // Recovery: merchants resubmit a share of what failed within 15 minutes of the network's return.
  for (const _ of failed) normal.push(...authorise(outageEnd + r.between(10 * SEC, 15 * MIN), "outage_catchup"));
  const kept = normal.filter((g) => g.ev.ts >= start && g.ev.ts < end);
  const benign: BenignWindow[] = [
    ...(sh.outageAt >= start
      ? [
          {
            type: "outage_catchup" as const,
            start: sh.outageAt,
            end: outageEnd + 15 * MIN,
            detail: "card-network outage 40 min: every authorisation errors, then resubmits",
          },
        ]
      : []),
    ...windowsOf(kept, "busy_day", "payday peak 1.7×"),
    ...windowsOf(kept, "holiday_lull", "public holiday 0.6×"),
  ];
  const top = MCC.map(([m]) => m);
  const p: Params = {
    id,
    arch: "card-payments-router",
    zone,
    start,
    end,
    currency,
    scopes: [
      "card.authorize",
      "card.capture",
      "card.refund",
      "card.void",
      "card.force_post",
      "card.credit_push",
      "card.tokenize",
      "card.balance_inquiry",
      "card.dispute_open",
      "card.3ds_challenge",
      "card.installment_plan",
      "card.account_verify",
    ],
    top: { action: "card.authorize", type: "transaction", resources: top },
    money: { action: "card.authorize", type: "transaction", median },
    rare: {
      action: "card.refund",
      make: (rr, t, after) => ({
        ts: Math.round(t),
        type: "transaction",
        action: "card.refund",
        resource: after.ev.resource ?? top[0],
        amount: round2((after.ev.amount ?? median) * rr.between(0.2, 1)),
        currency,
        outcome: "success",
        latencyMs: Math.round(rr.lognormal(150, 0.4)),
        attributes: { card: card(), auth: `A${rr.token(10)}` },
      }),
    },
    dormant: ["card.force_post", "card.credit_push"],
    discover: ["card.tokenize", "card.balance_inquiry", "card.dispute_open", "card.3ds_challenge", "card.installment_plan", "card.account_verify"],
    foreign: ["wire.send", "payroll.approve", "customer.export", "iam.key_create"],
    common: [
      { action: "card.authorize", type: "transaction" },
      { action: "card.capture", type: "transaction" },
      { action: "card.void", type: "api_request" },
    ],
    task: (_rr, t) => authorise(t).map((g) => g.ev),
    impossible: (rr, t) => {
      const n = rr.int(1, 4);
      const events: SimEvent[] = [];
      for (let k = 0; k < n; k++) {
        const [mcc, , f] = MCC[rr.weighted(mccW)]!;
        events.push({
          ts: Math.round(t + k * rr.between(20 * SEC, 10 * MIN)),
          type: "transaction",
          action: "card.refund",
          resource: mcc,
          amount: round2(rr.lognormal(median * f * 1.5, 0.5)),
          currency,
          outcome: "success",
          latencyMs: Math.round(rr.lognormal(150, 0.4)),
          attributes: { card: `tok_x${rr.token(6)}`, auth: `A${rr.token(10)}` },
        });
      }
      return { events, variant: `${n}× card.refund of a never-authorised card (no auth id)` };
    },
  };
  return {
    p,
    normal: kept,
    benign,
    profile: `${zone.name} ${currency}, ${peak.toFixed(1)} auths/h peak, median ${median.toFixed(0)}, declines ${(decline * 100).toFixed(1)}%${quiet ? ", quiet" : ""}`,
  };
}
