import type { BenignWindow } from "../types.ts";
import { type Arch, atLocal, type Drawn, finish, type Gen, historyStart, hourly, isWeekend, local, type Profile, session, type Step, ZONES } from "./model.ts";
import type { Rng } from "./random.ts";

/**
 * wealth-advisor-chat: client chat sessions (profile, portfolio with `positions`, research, order
 * proposals, rarely a submitted order), evenings and weekends; a market-crash day with 6× sessions,
 * many more orders and larger amounts.
 */
export const WEALTH: Arch = {
  name: "wealth-advisor-chat",
  draw(r, id, end, sh): Drawn {
    const zone = r.pick([ZONES.london, ZONES.singapore, ZONES.newYork, ZONES.mumbai]);
    const currency = r.pick(zone === ZONES.mumbai ? ["INR"] : zone === ZONES.singapore ? ["SGD", "USD"] : zone === ZONES.london ? ["GBP", "EUR"] : ["USD"]);
    const start = historyStart(r, end);
    const rate = r.chance(0.2) ? r.between(0.15, 0.3) : r.between(0.8, 4);
    const median = (currency === "INR" ? 80 : 1) * r.between(3_000, 40_000);
    const clients = r.int(50, 400);
    const posMedian = r.between(12, 40);
    const fail = r.between(0.003, 0.015);
    const holidays = zone.holiday === "2026-11-08" ? ["2026-11-08"] : zone.holiday ? [zone.holiday] : [];
    const chat = (rr: Rng, t: number, amountOverride?: number): Gen[] => {
      const l = local(zone, t);
      const crash = l.date === sh.crash;
      const c = `client:${Math.min(clients - 1, Math.floor(clients ** rr.next()) - 1)}`;
      const steps: Step[] = [
        { action: "client.profile.read", type: "data_access", resource: c },
        { action: "portfolio.read", type: "data_access", resource: c, attributes: { positions: Math.max(1, Math.round(rr.logn(posMedian, 0.5))) } },
      ];
      for (let k = rr.int(0, crash ? 5 : 3); k > 0; k--)
        steps.push({ action: "research.search", type: "api_request", resource: rr.pick(["news", "factsheet", "rates", "fx", "equities", "funds"]) });
      const k = crash ? 2.5 : 1;
      let proposed = false;
      if (amountOverride !== undefined || rr.chance(crash ? 0.9 : 0.4)) {
        proposed = true;
        for (let n = rr.int(1, crash ? 4 : 2); n > 0; n--)
          steps.push({ action: "order.propose", type: "transaction", resource: c, amount: amountOverride ?? rr.logn(median * k, 0.9), currency });
      }
      if (proposed && rr.chance(crash ? 0.5 : 0.15))
        steps.push({ action: "order.submit", type: "transaction", resource: c, amount: rr.logn(median * k, 0.9), currency });
      return session(rr, t, steps, 40, fail, crash ? "busy_day" : holidays.includes(l.date) ? "holiday_lull" : undefined);
    };
    const shape = (t: number): number => {
      const l = local(zone, t);
      let f: number;
      if (l.h < 7) f = 0.01;
      else if (l.h < 9) f = 0.2;
      else if (l.h < 18) f = isWeekend(l) ? 0.8 : 0.4;
      else if (l.h < 23) f = 1;
      else f = 0.25;
      if (l.date === sh.crash) f *= 6;
      if (holidays.includes(l.date)) f *= 0.5;
      return rate * f;
    };
    const gens = hourly(r, start, end, shape, (t) => chat(r, t));
    const benign: BenignWindow[] = [
      { type: "busy_day", start: atLocal(zone, sh.crash, 0), end: atLocal(zone, sh.crash, 24), detail: "market crash: 6× sessions, orders and larger amounts" },
    ];
    for (const d of holidays) benign.push({ type: "holiday_lull", start: atLocal(zone, d, 0), end: atLocal(zone, d, 24), detail: `holiday ${d}` });
    const p: Profile = {
      id,
      zone,
      start,
      end,
      scopes: ["client.*", "portfolio.*", "research.*", "order.*"],
      dormant: ["order.cancel_all", "client.address_update"],
      foreign: ["wire.send", "crm.export_all", "iam.role_grant"],
      unused: [
        "portfolio.rebalance",
        "research.download",
        "client.documents_read",
        "order.history",
        "portfolio.export",
        "client.kyc_read",
        "research.alerts_set",
      ],
      top: [
        { action: "client.profile.read", type: "data_access", resource: (rr) => `client:${rr.int(0, clients - 1)}` },
        { action: "portfolio.read", type: "data_access", resource: (rr) => `client:${rr.int(0, clients - 1)}` },
        { action: "research.search", type: "api_request", resource: () => "news" },
      ],
      money: { action: "order.propose", type: "transaction", median, currency },
      volume: { action: "portfolio.read", type: "data_access", key: "positions", median: posMedian },
      rare: { action: "order.submit", type: "transaction" },
      task: (rr, t) => chat(rr, t),
      moneyTask: (rr, t, amount) => chat(rr, t, amount),
      impossible: (rr, t) => ({
        gens: session(
          rr,
          t,
          [{ action: "order.submit", type: "transaction", resource: `client:${clients + rr.int(0, 999)}`, amount: rr.logn(median, 0.6), currency }],
          5,
          0,
        ),
        what: "order.submit for an unseen client with no profile read, portfolio read or proposal",
      }),
      fail,
    };
    return {
      p,
      normal: finish(r, p, gens, benign),
      benign,
      profile: `${zone.name} ${currency}, ${rate.toFixed(2)} sessions/h peak, ${clients} clients, median order ${Math.round(median)}`,
    };
  },
};
