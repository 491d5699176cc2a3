import { END, actionsOf, adoptInChain } from "../chain.ts";
import {
  RISKY_TOOLS, chainSession, jitterChain, latency, money, outOfScopeOf, unusedOf,
  type AgentModel, type Emitted, type KindDef, type Step,
} from "../model.ts";
import { Zipf, type Rng } from "../../common/rng.ts";
import { aroundTheClock, marketHours, weekdays } from "../rhythm.ts";

/** Venues by currency: the bot lives in its exchange's time zone and trading session. */
const VENUES: Record<string, { tz: number; zone: string; open: number; close: number; tickers: string[]; scale: number }> = {
  EUR: { tz: 60, zone: "Europe/Berlin", open: 9, close: 17.5, scale: 1, tickers: ["SAP.DE", "SIE.DE", "ALV.DE", "BAS.DE", "DTE.DE", "MBG.DE", "BMW.DE", "AIR.PA", "MC.PA", "ASML.AS", "OR.PA", "SAN.MC", "ENEL.MI", "BNP.PA", "ADS.DE", "IFX.DE", "DBK.DE", "TTE.PA"] },
  USD: { tz: -300, zone: "America/New_York", open: 9.5, close: 16, scale: 1, tickers: ["AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "JPM", "XOM", "TSLA", "BRK.B", "V", "UNH", "KO", "PEP", "COST", "AVGO", "LLY", "WMT"] },
  GBP: { tz: 0, zone: "Europe/London", open: 8, close: 16.5, scale: 0.85, tickers: ["SHEL.L", "AZN.L", "HSBA.L", "ULVR.L", "BP.L", "GSK.L", "RIO.L", "LSEG.L", "BARC.L", "VOD.L", "TSCO.L", "REL.L"] },
  JPY: { tz: 540, zone: "Asia/Tokyo", open: 9, close: 15, scale: 150, tickers: ["7203.T", "6758.T", "9984.T", "8306.T", "6861.T", "9432.T", "8035.T", "6098.T", "4063.T", "7974.T"] },
  CHF: { tz: 60, zone: "Europe/Zurich", open: 9, close: 17.5, scale: 0.95, tickers: ["NESN.SW", "ROG.SW", "NOVN.SW", "UBSG.SW", "ZURN.SW", "ABBN.SW", "CFR.SW", "SIKA.SW"] },
};
const CRYPTO = ["BTC-USD", "ETH-USD", "SOL-USD", "XRP-USD", "ADA-USD", "DOGE-USD", "AVAX-USD", "LINK-USD"];

const BASE = {
  start: { "market.quote": 0.7, "portfolio.read": 0.12, "market.history": 0.18 },
  next: {
    "market.history": { "market.quote": 0.8, [END]: 0.2 },
    "portfolio.read": { "market.quote": 0.6, [END]: 0.4 },
    "market.quote": { "market.quote": 0.35, "orders.place": 0.3, "orders.place_market": 0.006, [END]: 0.35 },
    "orders.place": { "orders.status": 0.5, "market.quote": 0.2, [END]: 0.3 },
    "orders.place_market": { "orders.status": 0.7, [END]: 0.3 },
    "orders.status": { "orders.cancel": 0.25, "orders.status": 0.1, "market.quote": 0.15, [END]: 0.5 },
    "orders.cancel": { "market.quote": 0.3, "orders.place": 0.3, [END]: 0.4 },
  },
};

export const trading: KindDef = {
  name: "trading",
  create(rng, v): AgentModel {
    const crypto = v.holdout && rng.chance(0.3);
    const ccy = crypto ? "USD" : rng.pick(v.currencies.filter((c) => VENUES[c]));
    const venue = VENUES[ccy] ?? VENUES.EUR!;
    const universe = crypto ? CRYPTO : venue.tickers;
    const watch = rng.sample(universe, rng.int(4, Math.min(14, universe.length)));
    let pop = new Zipf(watch.length, rng.uniform(0.6, 1.3));
    const books = Array.from({ length: rng.int(1, 3) }, () => `portfolio:book-${rng.hex(4)}`);
    const median = rng.lognormal(4000, 0.8) * venue.scale;
    const sigma = rng.uniform(0.45, 1.0);
    const open: string[] = [];
    let last = "";
    const wide = rng.chance(0.5);
    const scopes = wide
      ? ["orders.*", "market.*", "portfolio.read"]
      : ["orders.place", "orders.cancel", "orders.status", "orders.place_market", "market.*", "portfolio.read"];
    const chain = jitterChain(BASE, rng);
    const think = rng.uniform(1500, 6000);
    const orderId = () => `order:ord_${rng.hex(10)}`;

    const emit = (action: string, r: Rng): Emitted => {
      const ticker = watch[pop.draw(r)] ?? watch[0]!;
      switch (action) {
        case "market.quote": return { type: "api_request", resource: `instrument:${ticker}`, latencyMs: latency(r, 35, 0.4) };
        case "market.history": return { type: "data_access", resource: `bars:${ticker}:1m`, latencyMs: latency(r, 180, 0.5) };
        case "market.depth": return { type: "api_request", resource: `book:${ticker}`, latencyMs: latency(r, 45, 0.4) };
        case "portfolio.read": return { type: "data_access", resource: r.pick(books), latencyMs: latency(r, 90, 0.4) };
        case "orders.place":
        case "orders.place_market": {
          last = orderId();
          open.push(last);
          if (open.length > 50) open.shift();
          const amount = money(r.lognormal(median, sigma), ccy);
          // Pre-trade risk checks reject a few orders outright.
          return { type: "transaction", resource: last, amount, currency: ccy, latencyMs: latency(r, 120, 0.6), outcome: r.chance(0.004) ? "denied" : undefined };
        }
        case "orders.status": return { type: "api_request", resource: open.length ? r.pick(open) : last || orderId(), latencyMs: latency(r, 40, 0.4) };
        case "orders.cancel":
        case "orders.amend": {
          const o = open.length ? open.splice(r.int(0, open.length - 1), 1)[0]! : last;
          // Cancelling an order that has already filled fails: it happens.
          return { type: "transaction", resource: o || orderId(), latencyMs: latency(r, 90, 0.5), outcome: open.length === 0 && r.chance(0.5) ? "error" : undefined };
        }
        default: return { type: "tool_call", resource: `instrument:${ticker}`, latencyMs: latency(r, 80, 0.6) };
      }
    };

    const m: AgentModel = {
      kind: "trading",
      profile: `${crypto ? "crypto 24/7" : venue.zone} ${ccy}, ${watch.length} instruments, median ${Math.round(median)} ${ccy}`,
      scopes,
      rhythm: crypto
        ? { tzMin: 0, tzName: "UTC", hourly: aroundTheClock(rng, 0.5), weekday: weekdays(0.8) }
        : { tzMin: venue.tz, tzName: venue.zone, hourly: marketHours(venue.open, venue.close), weekday: weekdays(0) },
      sessionRate: rng.uniform(crypto ? 3 : 6, crypto ? 8 : 16),
      lanes: 1,
      errorRate: rng.uniform(0.01, 0.04),
      chain,
      session: (r) => chainSession(m, r, 20, (_a, _b, rr) => rr.lognormal(think, 0.7)),
      emit,
      adoptTool: (tool, r) => adoptInChain(m.chain, tool, r),
      growResources: (r) => {
        const fresh = universe.filter((t) => !watch.includes(t));
        const add = r.sample(fresh.length ? fresh : [`NEW${r.int(10, 99)}`], r.int(1, 2));
        watch.push(...add);
        pop = new Zipf(watch.length, 0.6);
        return add.flatMap((t) => [`instrument:${t}`, `bars:${t}`]);
      },
      hooks: {
        amountActions: ["orders.place"],
        sensitive: "orders.place_market",
        unusedInScope: unusedOf(scopes, actionsOf(chain), ["orders.amend", "orders.bulk_cancel", "market.depth", "market.news", "orders.place_stop"]),
        outOfScope: outOfScopeOf(scopes, ["funds.withdraw", "accounts.transfer", "accounts.read", "margin.borrow", ...RISKY_TOOLS]),
        exfil: { action: "portfolio.read", type: "data_access", resource: (r) => `portfolio:acct-${r.int(100000, 999999)}` },
        // Cancels of orders this bot never placed: ids no place ever returned.
        impossible: (r): Step[] => Array.from({ length: r.int(3, 6) }, (_, i) => ({
          action: "orders.cancel", gapMs: i === 0 ? 0 : r.lognormal(1500, 0.5), type: "transaction", resource: orderId(), latencyMs: latency(r, 90, 0.5),
        })),
      },
    };
    return m;
  },
};
