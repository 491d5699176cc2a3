import type { SimEvent } from "../sim-event.ts";
import type { BenignWindow } from "../types.ts";
import { baseProfile, busyDays, dayWindow, finish } from "./agent.ts";
import type { Arch } from "./arch.ts";
import { atLocal, clock, days, gap, hourly, holiday, MIN, monthEnds, Out, type Profile, weekend, ZONES } from "./model.ts";
import type { Rand } from "./random.ts";

interface Money {
  median: number;
  sigma: number;
  currencies: string[];
  weights: number[];
  beneficiaries: number;
}
const money = new Map<string, Money>();

function amountOf(r: Rand, m: Money, k = 1): { amount: number; currency: string } {
  return { amount: Math.round(r.lognormal(m.median * k, m.sigma) * 100) / 100, currency: m.currencies[r.weighted(m.weights)]! };
}

function adHoc(r: Rand, p: Profile, o: Out, t: number, rolled: boolean): void {
  const m = money.get(p.id)!;
  const x = r.next();
  if (rolled && r.chance(0.3)) t = o.step({ ts: t, type: "api_request", action: "payouts.verify_beneficiary", resource: `bene:${r.zipf(m.beneficiaries)}` });
  if (r.chance(0.01)) {
    o.step({ ts: t, type: "transaction", action: p.rare, resource: `bene:${r.zipf(m.beneficiaries)}`, ...amountOf(r, m) });
  } else if (x < 0.5) {
    for (let k = r.int(1, 3); k > 0; k--)
      t = o.step({ ts: t, type: "api_request", action: "payouts.check_status", resource: `payout:${r.int(1, 999999)}` }) + gap(r, 3, 1.4, 600);
  } else if (x < 0.82) {
    const a = amountOf(r, m, r.uniform(2, 20));
    t = o.step({
      ts: t,
      type: "api_request",
      action: "fx.quote",
      amount: a.amount,
      currency: a.currency,
      attributes: { pair: `${a.currency}/${m.currencies[0]}` },
    });
    if (r.chance(0.6)) o.step({ ts: t + gap(r, 4, 1.5, 240), type: "transaction", action: "fx.book", amount: a.amount, currency: a.currency });
  } else {
    o.step({
      ts: t,
      type: "data_access",
      action: "ledger.read",
      resource: `ledger:${m.currencies[r.weighted(m.weights)]}`,
      attributes: { records: r.int(1, 50) },
    });
  }
}

/** One release batch at a cut-off: list the pending payouts, release them one by one, report. */
function batch(r: Rand, p: Profile, o: Out, t: number, n: number, k: number, rolled: boolean): number {
  const m = money.get(p.id)!;
  t = o.step({ ts: t, type: "data_access", action: "payouts.list_pending", resource: "queue:outbound", attributes: { records: n } });
  if (rolled) t = o.step({ ts: t + 800, type: "api_request", action: "payouts.verify_beneficiary", resource: "queue:outbound", attributes: { records: n } });
  for (let i = 0; i < n; i++) {
    t += Math.round(Math.min(r.pareto(0.4, 1.6), 30) * 1000);
    t = o.step({ ts: t, type: "transaction", action: "payouts.release", resource: `bene:${r.zipf(m.beneficiaries)}`, ...amountOf(r, m, k) });
  }
  return o.step({ ts: t + 2000, type: "tool_call", action: "payouts.batch_report", resource: "queue:outbound", attributes: { released: n } });
}

export const TREASURY: Arch = {
  name: "treasury-payouts",
  read: "ledger.read",
  money: "payouts.release",
  draw(r, id, end, shared) {
    const p = baseProfile(r, id, this.name, end, [ZONES.london, ZONES.berlin, ZONES.newyork, ZONES.chicago], shared, {
      scopes: ["payouts.*", "fx.*", "ledger.read", "beneficiary.update_bank"],
      dormant: ["beneficiary.update_bank", "payouts.limit_override"],
      rare: "payouts.manual_release",
      outOfScope: ["wire.external_send", "iam.create_key", "beneficiary.create", "accounts.close", "treasury.sweep_all"],
      discover: [
        "payouts.export",
        "payouts.list_all",
        "fx.counterparties",
        "fx.limits",
        "payouts.hold",
        "payouts.reroute",
        "fx.settle_instructions",
        "payouts.search",
      ],
    });
    const home = p.zone.us ? "USD" : p.zone === ZONES.london ? "GBP" : "EUR";
    const cur = [home, ...r.shuffle(["USD", "EUR", "GBP", "CHF", "PLN", "SEK"].filter((c) => c !== home)).slice(0, r.int(0, 2))];
    const m: Money = {
      median: r.uniform(150, 2500),
      sigma: r.uniform(0.8, 1.2),
      currencies: cur,
      weights: cur.map((_, i) => (i === 0 ? 1 : r.uniform(0.05, 0.4))),
      beneficiaries: r.int(300, 3000),
    };
    money.set(p.id, m);
    const o = new Out(r, p);
    const [lo, hi] = [r.int(20, 80), r.int(100, 300)];
    const payroll = new Set(monthEnds(p));
    const busy = busyDays(r, p, r.int(0, 2), 2, 3.5);
    const windows: BenignWindow[] = [];
    const rolled = (t: number) => t >= shared.rolloutAt;
    for (const d of days(p)) {
      const dow = (((d + 4) % 7) + 7) % 7;
      if (weekend(dow) || holiday(p, d)) continue;
      for (const [ci, cut] of [10.5, 15.5].entries()) {
        const t0 = atLocal(p, d, cut) + Math.round(r.uniform(-10, 10) * MIN);
        const big = payroll.has(d) && ci === 1;
        const n = Math.round(r.int(lo, hi) * (busy.get(d) ?? 1) * (big ? r.uniform(5, 10) : 1));
        const tEnd = batch(r, p, o, t0, n, big ? 3 : 1, rolled(t0));
        if (big) windows.push({ type: "big_ticket", start: t0, end: tEnd, detail: `month-end payroll batch: ${n} payouts at 3× the usual amounts` });
      }
      if (busy.has(d)) windows.push(dayWindow(p, "busy_day", d, d, `busy day ×${busy.get(d)!.toFixed(1)}`));
    }
    const rate = r.uniform(1, 4);
    hourly(
      r,
      p,
      rate,
      (h, dow) => (weekend(dow) ? 0 : h >= 8 && h < 18 ? (h === 12 ? 0.5 : 1) : h >= 18 && h < 20 ? 0.15 : 0),
      (d) => (holiday(p, d) ? 0.05 : 1),
      (t) => adHoc(r, p, o, t, rolled(t)),
    );
    if (r.chance(0.5)) {
      // A few legitimately large FX bookings (big_ticket).
      for (let k = r.int(1, 3); k > 0; k--) {
        const ts = atLocal(p, r.pick(days(p).slice(5, -1)), r.uniform(9, 17));
        const a = amountOf(r, m, r.uniform(40, 200));
        o.step({ ts, type: "transaction", action: "fx.book", amount: a.amount, currency: a.currency });
        windows.push({ type: "big_ticket", start: ts, end: ts + 60_000, detail: `large FX booking ${a.amount} ${a.currency}` });
      }
    }
    windows.push({
      type: "new_tool",
      start: shared.rolloutAt,
      end: shared.rolloutAt + 3 * 86_400_000,
      detail: "rollout: payouts.verify_beneficiary on every agent",
    });
    const d0 = clock(p, p.start).day;
    return finish(
      r,
      p,
      o.evs,
      windows,
      `${p.zone.name}, ${cur.join("/")}, median ${m.median.toFixed(0)}, batches ${lo}–${hi}, ${m.beneficiaries} beneficiaries, from day ${d0}`,
    );
  },
  task(r, p, t) {
    const m = money.get(p.id)!;
    const a = amountOf(r, m, r.uniform(2, 20));
    return [
      { ts: t, type: "api_request", action: "fx.quote", amount: a.amount, currency: a.currency, outcome: "success" },
      { ts: t + 20_000, type: "transaction", action: "fx.book", amount: a.amount, currency: a.currency, outcome: "success" },
      { ts: t + 60_000, type: "api_request", action: "payouts.check_status", resource: `payout:${r.int(1, 999999)}`, outcome: "success" },
    ];
  },
  badSequence(r, p, t) {
    const m = money.get(p.id)!;
    const a = amountOf(r, m, r.uniform(2, 10));
    const ev = (dt: number, action: string, type: SimEvent["type"], extra: Partial<SimEvent> = {}): SimEvent => ({
      ts: t + dt,
      type,
      action,
      outcome: "success",
      ...extra,
    });
    // Releases with no pending list and no batch report, outside a cut-off; an FX booking with no quote.
    return {
      evs: [
        ev(0, "fx.book", "transaction", { amount: a.amount, currency: a.currency }),
        ev(15_000, "payouts.release", "transaction", { resource: `bene:${r.int(1, m.beneficiaries)}`, ...amountOf(r, m) }),
        ev(40_000, "payouts.release", "transaction", { resource: `bene:${r.int(1, m.beneficiaries)}`, ...amountOf(r, m) }),
        ev(70_000, "payouts.list_pending", "data_access", { resource: "queue:outbound", attributes: { records: 2 } }),
      ],
      variant: "fx.book with no quote, releases before the pending list, off cut-off",
    };
  },
};
