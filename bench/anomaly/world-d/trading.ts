import type { SimEvent } from "../sim-event.ts";
import type { BenignWindow } from "../types.ts";
import { baseProfile, dayWindow, finish } from "./agent.ts";
import type { Arch } from "./arch.ts";
import { clock, DAY, dayKey, gap, holiday, HOUR, Out, type Profile, weekend, type Zone, ZONES } from "./model.ts";
import type { Rand } from "./random.ts";

interface Exchange {
  mic: string;
  zone: Zone;
  currency: string;
  /** Continuous trading, local hours: [open, close] pairs (Tokyo has a lunch break). */
  sessions: [number, number][];
  /** Median notional in the exchange's currency. */
  notional: number;
}

const EXCHANGES: Exchange[] = [
  {
    mic: "XTKS",
    zone: ZONES.tokyo,
    currency: "JPY",
    sessions: [
      [9, 11.5],
      [12.5, 15.5],
    ],
    notional: 6_000_000,
  },
  { mic: "XLON", zone: ZONES.london, currency: "GBP", sessions: [[8, 16.5]], notional: 35_000 },
  { mic: "XNYS", zone: ZONES.newyork, currency: "USD", sessions: [[9.5, 16]], notional: 45_000 },
];

interface Book {
  ex: Exchange[];
  symbols: Map<string, string[]>;
  cancel: number;
  scale: number;
  positions: number;
}
const books = new Map<string, Book>();

/** An exchange's own clock, as a profile (exchanges keep their local time; no company summer hours). */
const exProfile = (p: Profile, e: Exchange): Profile => ({ ...p, zone: e.zone, summerAt: undefined });

function order(r: Rand, p: Profile, o: Out, e: Exchange, t: number, k: number, rolled: boolean): void {
  const b = books.get(p.id)!;
  const resource = r.pick(b.symbols.get(e.mic)!);
  const oid = `o${r.int(1, 2 ** 31)}`;
  if (rolled) t = o.step({ ts: t, type: "api_request", action: "risk.pretrade_check", resource }) + gap(r, 0.2, 2, 5);
  const notional = Math.round(e.notional * b.scale * k * r.lognormal(1, 0.6) * Math.min(r.pareto(1, 1.6), 200));
  t = o.step({
    ts: t,
    type: "transaction",
    action: r.chance(0.01) ? p.rare : "order.new",
    resource,
    amount: notional,
    currency: e.currency,
    attributes: { order_id: oid, side: r.pick(["buy", "sell"]) },
  });
  for (let a = r.chance(0.25) ? r.int(1, 2) : 0; a > 0; a--)
    t = o.step({ ts: t + gap(r, 1, 1.2, 1200), type: "tool_call", action: "order.amend", resource, attributes: { order_id: oid } });
  if (r.chance(b.cancel)) o.step({ ts: t + gap(r, 1, 1.1, 1800), type: "tool_call", action: "order.cancel", resource, attributes: { order_id: oid } });
}

export const TRADING: Arch = {
  name: "trading-exec",
  read: "positions.read",
  money: "order.new",
  draw(r, id, end, shared) {
    const p = baseProfile(r, id, this.name, end, [ZONES.london, ZONES.newyork, ZONES.tokyo], shared, {
      scopes: ["order.*", "positions.read", "risk.pretrade_check", "risk.limit_override", "positions.transfer"],
      dormant: ["risk.limit_override", "positions.transfer"],
      rare: "order.new_iceberg",
      outOfScope: ["wire.external_send", "accounts.withdraw", "iam.create_key", "market_data.bulk_download", "compliance.disable_alert"],
      discover: ["order.list_all", "order.replace", "order.status", "order.mass_quote", "order.route_dark", "order.bracket", "order.history", "order.allocate"],
    });
    const ex = r.shuffle(EXCHANGES).slice(0, r.int(1, 3));
    const symbols = new Map(ex.map((e) => [e.mic, Array.from({ length: r.int(10, 60) }, () => `${e.mic}:${r.int(1000, 9999)}`)]));
    const b: Book = { ex, symbols, cancel: r.uniform(0.3, 0.7), scale: r.lognormal(1, 0.5), positions: r.int(20, 300) };
    books.set(p.id, b);
    const o = new Out(r, p);
    const windows: BenignWindow[] = [];
    const rate = r.uniform(3, 12);
    // Quarterly rebalance: the last Friday of September or quarter end itself.
    const rebalance = r.chance(0.5) ? "2026-09-25" : "2026-09-30";
    for (const e of ex) {
      const q = exProfile(p, e);
      for (const h of e.zone.holidays) {
        const d = Date.parse(`${h}T00:00:00Z`) / DAY;
        windows.push(dayWindow(q, "holiday_lull", d, d, `${e.mic} closed for a holiday`));
      }
      for (let d = clock(q, p.start).day; d <= clock(q, p.end).day; d++) {
        const dow = (((d + 4) % 7) + 7) % 7;
        if (weekend(dow) || holiday(q, d)) continue;
        const reb = dayKey(d) === rebalance;
        for (const [open, close] of e.sessions) {
          // Heavier at the open and the close (U shape).
          for (let h = open; h < close; h += 0.25) {
            const x = (h - open) / (close - open);
            const w = 0.6 + 1.6 * (x - 0.5) ** 2 * 4;
            const n = r.poisson(((rate * w) / 4) * (reb ? 10 : 1));
            for (let k = 0; k < n; k++) {
              const t = d * DAY + (h + r.next() * 0.25) * HOUR - e.zone.offsetH * HOUR;
              order(r, p, o, e, t, reb ? 5 : 1, t >= shared.rolloutAt);
            }
          }
          for (let h = open + r.uniform(0, 0.3); h < close; h += r.uniform(0.25, 0.5)) {
            const t = d * DAY + h * HOUR - e.zone.offsetH * HOUR;
            o.step({
              ts: t,
              type: "data_access",
              action: "positions.read",
              resource: `book:${e.mic}`,
              attributes: { rows_returned: b.positions + r.int(-5, 5) },
            });
          }
        }
        if (reb) windows.push(dayWindow(q, "busy_day", d, d, `quarterly rebalance on ${e.mic}: 10× orders, 5× notional`));
      }
    }
    windows.push({ type: "new_tool", start: shared.rolloutAt, end: shared.rolloutAt + 3 * DAY, detail: "rollout: risk.pretrade_check before every order" });
    return finish(
      r,
      p,
      o.evs,
      windows,
      `${ex.map((e) => e.mic).join("+")}, ${rate.toFixed(0)} orders/h, cancel ${(b.cancel * 100).toFixed(0)} %, scale ${b.scale.toFixed(2)}`,
    );
  },
  task(r, p, t) {
    const b = books.get(p.id)!;
    const o = new Out(r, { ...p, errRate: 0 });
    const e = b.ex[0]!;
    o.step({ ts: t, type: "data_access", action: "positions.read", resource: `book:${e.mic}`, attributes: { rows_returned: b.positions } });
    for (let k = r.int(2, 5); k > 0; k--) order(r, p, o, e, t + r.int(5, 600) * 1000, 1, false);
    return o.evs.map((g) => g.ev).sort((a, c) => a.ts - c.ts);
  },
  badSequence(r, p, t) {
    const b = books.get(p.id)!;
    const e = b.ex[0]!;
    const resource = r.pick(b.symbols.get(e.mic)!);
    const oid = `o${r.int(1, 2 ** 31)}`;
    const ev = (dt: number, action: string, type: SimEvent["type"], extra: Partial<SimEvent> = {}): SimEvent => ({
      ts: t + dt,
      type,
      action,
      resource,
      outcome: "success",
      attributes: { order_id: oid },
      ...extra,
    });
    // Amends and a cancel of an order that is only placed afterwards.
    return {
      evs: [
        ev(0, "order.amend", "tool_call"),
        ev(4_000, "order.amend", "tool_call"),
        ev(9_000, "order.cancel", "tool_call"),
        ev(30_000, "order.new", "transaction", { amount: Math.round(e.notional * b.scale), currency: e.currency }),
      ],
      variant: "amend and cancel before the order exists",
    };
  },
};
