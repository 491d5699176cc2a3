import type { EventType } from "../types.ts";
import { addBenign, at, DAY, type Day, drawHour, emit, freshId, HOUR, type Ctx, resource } from "./model.ts";

/** What the attack side needs to know of an archetype. */
export interface Arch {
  name: string;
  short: string;
  actions: readonly string[];
  types: Readonly<Record<string, EventType>>;
  newTool: string;
  dormant: readonly [string, string];
  amountActions: readonly string[];
  volume?: { action: string; key: string };
  /** The in-scope action whose share drift_mix grows. */
  mixTarget: string;
  /** Out-of-scope actions for out_of_scope. */
  foreign: readonly string[];
  /** Near-constant activity around the clock: no dead hours. */
  allDay: boolean;
  /** Silent on Saturdays and Sundays. */
  weekendSilent: boolean;
  /** Events per day of a normal agent (scale 1), roughly. */
  budget: number;
  day(c: Ctx, d: Day, p: Record<string, number>): void;
  setup(c: Ctx, days: readonly Day[]): Record<string, number>;
}

const isWeekend = (d: Day): boolean => d.dow === 0 || d.dow === 6;

/** Local-hour weights from [from, to, weight] spans. */
function curve(spans: readonly (readonly [number, number, number])[], floor = 0): number[] {
  const w = Array.from({ length: 24 }, () => floor);
  for (const [a, b, x] of spans) for (let h = a; h < b; h++) w[h] = x;
  return w;
}

/** Surges, lulls and the agent's own one-off benign day. */
function dayFactor(c: Ctx, d: Day): number {
  let f = 1;
  if (d.holiday) f *= 0.08;
  if (c.surge && d.n === c.surge.day) f *= c.surge.factor;
  return f;
}

function markDay(c: Ctx, d: Day, type: Parameters<typeof addBenign>[1], detail: string): void {
  addBenign(c, type, at(c, d, 0) - (c.shift && d.n >= c.shift.from ? c.shift.hours * HOUR : 0), at(c, d, 24), detail);
}

const tool = (c: Ctx, d: Day): boolean => c.newTool !== undefined && d.n >= c.newTool.from;

// ---------------------------------------------------------------- sanctions screener
const SS_WEEKDAY = curve(
  [
    [7, 8, 0.3],
    [8, 9, 1],
    [9, 11, 3],
    [11, 12, 1.6],
    [12, 14, 1.1],
    [14, 16, 2.8],
    [16, 17, 1.2],
    [17, 19, 0.4],
    [19, 21, 0.1],
  ],
  0.01,
);
const SS_SAT = curve([[9, 13, 1]], 0.02);

export const SANCTIONS: Arch = {
  name: "sanctions-screener",
  short: "ss",
  actions: ["screen.check", "alert.escalate", "list.refresh"],
  types: {
    "screen.check": "tool_call",
    "alert.escalate": "message",
    "list.refresh": "api_request",
    "screen.batch": "tool_call",
    "list.override": "tool_call",
    "party.whitelist": "tool_call",
  },
  newTool: "screen.batch",
  dormant: ["list.override", "party.whitelist"],
  amountActions: [],
  mixTarget: "alert.escalate",
  foreign: ["payment.release", "wire.send", "list.delete_entry"],
  allDay: false,
  weekendSilent: false,
  budget: 160,
  setup(c) {
    return { checks: c.r.uniform(110, 200) * c.scale, refresh: c.r.int(5, 7) + c.r.pick([0, 0.25, 0.5]), repeat: c.r.uniform(0.45, 0.75) };
  },
  day(c, d, p) {
    emit(c, at(c, d, p.refresh! + c.r.uniform(0, 0.05)), "api_request", "list.refresh", {
      resource: "list:consolidated",
      latency: 4000,
      attributes: { entries: 12_000 + d.n * 7 },
    });
    const base = d.dow === 0 ? 0.02 : d.dow === 6 ? 0.15 : 1;
    const n = c.r.poisson(p.checks! * base * dayFactor(c, d));
    let i = 0;
    while (i < n) {
      // Payments arrive in small batches: a few checks seconds apart.
      let t = at(c, d, drawHour(c.r, d.dow === 6 ? SS_SAT : SS_WEEKDAY));
      const batch = Math.min(n - i, Math.floor(c.r.pareto(1, 1.6)));
      for (let k = 0; k < batch; k++, i++) {
        const party = resource(c, "party", "party:", p.repeat!);
        const score = Math.floor(100 * Math.pow(c.r.next(), 8));
        const action = tool(c, d) && c.r.chance(0.25) ? "screen.batch" : "screen.check";
        t = emit(c, t, "tool_call", action, { resource: party, latency: 180, attributes: { matchScore: score } });
        if (score > 85 && c.r.chance(0.5))
          t = emit(c, t + c.r.lognormal(40_000, 0.8), "message", "alert.escalate", { resource: party, latency: 300, attributes: { matchScore: score } });
        t += c.r.lognormal(2500, 1.1);
      }
    }
  },
};

// ---------------------------------------------------------------- loan underwriter
const LU_DAY = curve(
  [
    [8, 9, 0.6],
    [9, 12, 2],
    [12, 13, 0.8],
    [13, 17, 1.8],
    [17, 19, 0.5],
    [19, 21, 0.15],
  ],
  0.005,
);

export const UNDERWRITER: Arch = {
  name: "loan-underwriter",
  short: "lu",
  actions: ["application.read", "bureau.pull", "income.verify", "model.score", "decision.record"],
  types: {
    "application.read": "data_access",
    "bureau.pull": "api_request",
    "income.verify": "api_request",
    "model.score": "tool_call",
    "decision.record": "transaction",
    "fraud.check": "tool_call",
    "limit.override": "transaction",
    "bureau.bulk_export": "data_access",
  },
  newTool: "fraud.check",
  dormant: ["limit.override", "bureau.bulk_export"],
  amountActions: ["decision.record"],
  volume: { action: "bureau.pull", key: "records" },
  mixTarget: "income.verify",
  foreign: ["funds.disburse", "rate.set", "customer.delete"],
  allDay: false,
  weekendSilent: false,
  budget: 130,
  setup(c, days) {
    const weekdays = days.filter((d) => !isWeekend(d) && !d.holiday && d.n >= 3);
    const rateDay = weekdays.length ? c.r.pick(weekdays).n : -1;
    return { apps: c.r.uniform(18, 34) * c.scale, mortgage: c.r.uniform(0.03, 0.45), existing: c.r.uniform(0.15, 0.45), rateDay };
  },
  day(c, d, p) {
    let f = d.dow === 0 ? 0.05 : d.dow === 6 ? 0.25 : 1;
    if (d.n === p.rateDay) {
      f *= 2;
      markDay(c, d, "busy_day", "rate-change day: applications double");
    }
    const n = c.r.poisson(p.apps! * f * dayFactor(c, d));
    for (let i = 0; i < n; i++) {
      const app = freshId(c, "app:");
      let t = at(c, d, drawHour(c.r, LU_DAY));
      const abandonAt = c.r.chance(0.03) ? c.r.int(1, 4) : 99;
      const steps: [string, () => Parameters<typeof emit>[4]][] = [
        ["application.read", () => ({ resource: app, latency: 90 })],
        ["bureau.pull", () => ({ resource: app, latency: 1400, attributes: { records: Math.min(40, Math.max(1, Math.round(c.r.lognormal(9, 0.6)))) } })],
      ];
      if (!c.r.chance(p.existing!)) steps.push(["income.verify", () => ({ resource: app, latency: 2500 })]);
      if (tool(c, d) && c.r.chance(0.6)) steps.push(["fraud.check", () => ({ resource: app, latency: 700 })]);
      steps.push(["model.score", () => ({ resource: app, latency: 350 })]);
      steps.push([
        "decision.record",
        () => {
          const mortgage = c.r.chance(p.mortgage!);
          let amount = mortgage ? Math.min(2e6, Math.max(150e3, c.r.lognormal(380e3, 0.6))) : Math.min(50e3, Math.max(2e3, c.r.lognormal(9e3, 0.75)));
          if (c.bigTicket && d.n === c.bigTicket.day && i === 0) amount = c.bigTicket.factor * (p.mortgage! > 0.5 ? 380e3 : 9e3);
          return { resource: app, latency: 200, amount, attributes: { product: mortgage ? "mortgage" : "personal" } };
        },
      ]);
      for (const [k, [action, opts]] of steps.entries()) {
        if (k >= abandonAt) break;
        t = emit(c, t, UNDERWRITER.types[action]!, action, opts());
        t += k === steps.length - 2 ? c.r.pareto(60_000, 1.1) : c.r.lognormal(70_000, 1);
      }
    }
    if (c.bigTicket && d.n === c.bigTicket.day) markDay(c, d, "big_ticket", `jumbo loan ${c.bigTicket.factor.toFixed(0)}× median`);
  },
};

// ---------------------------------------------------------------- card-servicing voicebot
const CV_DAY = curve([
  [0, 1, 0.35],
  [1, 5, 0.15],
  [5, 7, 0.35],
  [7, 9, 0.8],
  [9, 13, 1.6],
  [13, 17, 1.3],
  [17, 21, 1.7],
  [21, 24, 0.8],
]);

export const VOICEBOT: Arch = {
  name: "card-servicing-voicebot",
  short: "cv",
  actions: ["account.balance", "card.block", "card.replace", "dispute.open", "transfer.internal"],
  types: {
    "account.balance": "data_access",
    "card.block": "tool_call",
    "card.replace": "tool_call",
    "dispute.open": "transaction",
    "transfer.internal": "transaction",
    "card.travel_notice": "tool_call",
    "limit.raise": "transaction",
    "pin.reset_override": "tool_call",
  },
  newTool: "card.travel_notice",
  dormant: ["limit.raise", "pin.reset_override"],
  amountActions: ["dispute.open", "transfer.internal"],
  mixTarget: "transfer.internal",
  foreign: ["account.close", "card.issue_virtual", "kyc.override"],
  allDay: true,
  weekendSilent: false,
  budget: 420,
  setup(c, days) {
    const incident = c.r.pick(days.filter((d) => d.n >= 3)).n;
    return { calls: c.r.uniform(120, 180) * c.scale, incident, incidentHour: c.r.uniform(8, 19), incidentLen: c.r.uniform(2, 3), fail: c.r.uniform(0.3, 0.5) };
  },
  day(c, d, p) {
    if (d.n === p.incident) {
      const s = at(c, d, p.incidentHour!);
      c.errors.push({ start: s, end: s + p.incidentLen! * HOUR, factor: p.fail! });
      addBenign(
        c,
        "outage_catchup",
        s,
        s + (p.incidentLen! + 1.5) * HOUR,
        `card-network incident: ${(p.fail! * 100).toFixed(0)} % of calls fail for ${p.incidentLen!.toFixed(1)} h, callers retry after`,
      );
    }
    const f = (d.dow === 0 ? 0.75 : d.dow === 6 ? 0.85 : 1) * (d.holiday ? 0.7 / 0.08 : 1) * dayFactor(c, d);
    const n = c.r.poisson(p.calls! * f);
    for (let i = 0; i < n; i++) {
      const hour = drawHour(c.r, CV_DAY);
      let t = at(c, d, hour);
      const inc = d.n === p.incident && hour >= p.incidentHour! + p.incidentLen! && hour < p.incidentHour! + p.incidentLen! + 1.5;
      const acct = resource(c, "acct", "acct:", 0.22);
      t = emit(c, t, "data_access", "account.balance", { resource: acct, latency: 120 });
      const more =
        c.r.weighted([
          [0, 0.45],
          [1, 0.38],
          [2, 0.13],
          [3, 0.04],
        ] as const) + (inc && c.r.chance(0.5) ? 1 : 0);
      for (let k = 0; k < more; k++) {
        t += c.r.lognormal(25_000, 0.9);
        const action = c.r.weighted([
          ["transfer.internal", 0.42],
          ["card.block", 0.22],
          ["dispute.open", 0.16],
          ["card.replace", 0.1],
          ["account.balance", 0.1],
          ...(tool(c, d) ? ([["card.travel_notice", 0.2]] as const) : []),
        ] as const);
        let amount: number | undefined;
        if (action === "transfer.internal") amount = c.r.lognormal(260, 1.1);
        if (action === "dispute.open") amount = c.r.lognormal(75, 1);
        if (amount !== undefined && c.bigTicket && d.n === c.bigTicket.day && i === 0) amount = c.bigTicket.factor * 260;
        t = emit(c, t, VOICEBOT.types[action]!, action, { resource: acct, latency: 260, amount });
      }
    }
    if (c.bigTicket && d.n === c.bigTicket.day) markDay(c, d, "big_ticket", `one transfer ${c.bigTicket.factor.toFixed(0)}× median`);
  },
};

// ---------------------------------------------------------------- trading research assistant
export const TRADING: Arch = {
  name: "trading-research-assistant",
  short: "tr",
  actions: ["quote.get", "news.read", "filing.fetch", "report.write"],
  types: {
    "quote.get": "api_request",
    "news.read": "data_access",
    "filing.fetch": "data_access",
    "report.write": "tool_call",
    "transcript.read": "data_access",
    "order.place_test": "transaction",
    "research.bulk_download": "data_access",
  },
  newTool: "transcript.read",
  dormant: ["order.place_test", "research.bulk_download"],
  amountActions: [],
  volume: { action: "filing.fetch", key: "pages" },
  mixTarget: "filing.fetch",
  foreign: ["order.place", "position.read_all", "client.list"],
  allDay: false,
  weekendSilent: true,
  budget: 110,
  setup(c, days) {
    const from = days.length > 20 ? c.r.int(3, days.length - 16) : -99;
    return { tickers: c.r.uniform(9, 16) * c.scale, earnFrom: from, post: c.r.uniform(16, 16.75) };
  },
  day(c, d, p) {
    if (isWeekend(d)) return;
    const earn = d.n >= p.earnFrom! && d.n < p.earnFrom! + 14;
    if (earn) markDay(c, d, "busy_day", "earnings season: 3× volume");
    const f = (earn ? 3 : 1) * dayFactor(c, d);
    const watch = (c.pools.get("ticker") ?? []).slice(-60);
    const session = (from: number, to: number, kind: string, n: number) => {
      const s = at(c, d, from + c.r.uniform(0, 0.25));
      const len = (to - from) * HOUR * 0.92;
      for (let i = 0; i < n; i++) {
        // Tickers churn: a third of the names each session are new to the agent.
        const tk = c.r.chance(0.33) || watch.length === 0 ? resource(c, "ticker", "ticker:T", 0) : c.r.pick(watch);
        let t = s + (len * i) / Math.max(1, n) + c.r.uniform(0, len / Math.max(1, n));
        for (let q = c.r.int(1, 3); q > 0; q--) t = emit(c, t + c.r.lognormal(4000, 1), "api_request", "quote.get", { resource: tk, latency: 60 }) + 1;
        for (let q = c.r.poisson(1.4); q > 0; q--) t = emit(c, t + c.r.lognormal(20_000, 1), "data_access", "news.read", { resource: tk, latency: 140 });
        if (c.r.chance(0.35))
          t = emit(c, t + c.r.lognormal(30_000, 1), "data_access", "filing.fetch", {
            resource: tk,
            latency: 900,
            attributes: { pages: Math.max(2, Math.round(c.r.lognormal(28, 0.9))) },
          });
        if (tool(c, d) && c.r.chance(0.3))
          emit(c, t + c.r.lognormal(30_000, 1), "data_access", "transcript.read", {
            resource: tk,
            latency: 500,
            attributes: { pages: Math.max(2, Math.round(c.r.lognormal(14, 0.6))) },
          });
      }
      emit(c, s + len + c.r.lognormal(60_000, 0.6), "tool_call", "report.write", { resource: `report:${d.date}-${kind}`, latency: 6000 });
    };
    session(6, 9.5, "am", c.r.poisson(p.tickers! * f));
    if (!d.holiday || c.r.chance(0.3)) session(p.post!, p.post! + 2, "pm", c.r.poisson(p.tickers! * 0.5 * f));
  },
};

// ---------------------------------------------------------------- AP invoice processor
const AP_DAY = curve(
  [
    [7, 8, 0.4],
    [8, 12, 2],
    [12, 13, 0.9],
    [13, 17, 1.6],
    [17, 19, 0.4],
  ],
  0.004,
);
const AP_DOW = [0.02, 1.8, 1.2, 1, 0.9, 0.5, 0.03];

export const AP: Arch = {
  name: "ap-invoice-processor",
  short: "ap",
  actions: ["invoice.ingest", "vendor.match", "payment.propose", "erp.post"],
  types: {
    "invoice.ingest": "data_access",
    "vendor.match": "tool_call",
    "payment.propose": "transaction",
    "erp.post": "api_request",
    "po.match": "tool_call",
    "vendor.bank_change": "tool_call",
    "payment.release_manual": "transaction",
  },
  newTool: "po.match",
  dormant: ["vendor.bank_change", "payment.release_manual"],
  amountActions: ["payment.propose"],
  volume: { action: "invoice.ingest", key: "lines" },
  mixTarget: "payment.propose",
  foreign: ["vendor.create", "bank.transfer", "gl.adjust"],
  allDay: false,
  weekendSilent: true,
  budget: 120,
  setup(c, days) {
    const mid = days.filter((d) => d.dow >= 1 && d.dow <= 4 && d.n >= 5);
    return { invoices: c.r.uniform(18, 32) * c.scale, median: c.r.uniform(600, 4500), migration: mid.length && c.r.chance(0.6) ? c.r.pick(mid).n : -1, gen: 0 };
  },
  day(c, d, p) {
    let f = AP_DOW[d.dow]! * dayFactor(c, d);
    if (d.monthEnd) {
      f *= 5;
      markDay(c, d, "busy_day", "month-end close: 5×");
    }
    if (d.n === p.migration) {
      p.gen!++;
      markDay(c, d, "new_resource", "vendor-master migration: every vendor id is new");
    }
    const n = c.r.poisson(p.invoices! * f);
    for (let i = 0; i < n; i++) {
      const inv = freshId(c, "inv:");
      let t = at(c, d, drawHour(c.r, AP_DAY));
      t = emit(c, t, "data_access", "invoice.ingest", { resource: inv, latency: 800, attributes: { lines: Math.max(1, Math.round(c.r.lognormal(6, 0.9))) } });
      t += c.r.lognormal(20_000, 1);
      t = emit(c, t, "tool_call", "vendor.match", { resource: resource(c, `vendor${p.gen}`, `vendor:V${p.gen}-`, 0.93), latency: 300 });
      if (tool(c, d) && c.r.chance(0.7)) t = emit(c, t + c.r.lognormal(8000, 0.7), "tool_call", "po.match", { resource: inv, latency: 300 });
      t += c.r.lognormal(60_000, 1.2);
      let amount = c.r.lognormal(p.median!, 1);
      if (c.bigTicket && d.n === c.bigTicket.day && i === 0) amount = c.bigTicket.factor * p.median!;
      t = emit(c, t, "transaction", "payment.propose", { resource: inv, latency: 400, amount });
      if (c.r.chance(0.97)) emit(c, t + c.r.pareto(30_000, 1.3), "api_request", "erp.post", { resource: inv, latency: 1200 });
    }
    if (c.bigTicket && d.n === c.bigTicket.day) markDay(c, d, "big_ticket", `capex invoice ${c.bigTicket.factor.toFixed(0)}× median`);
  },
};

// ---------------------------------------------------------------- KYC refresh worker
export const KYC: Arch = {
  name: "kyc-refresh-worker",
  short: "kyc",
  actions: ["customer.fetch", "doc.verify", "risk.rate", "case.close"],
  types: {
    "customer.fetch": "data_access",
    "doc.verify": "tool_call",
    "risk.rate": "tool_call",
    "case.close": "api_request",
    "sanctions.recheck": "api_request",
    "risk.override": "tool_call",
    "customer.export": "data_access",
  },
  newTool: "sanctions.recheck",
  dormant: ["risk.override", "customer.export"],
  amountActions: [],
  volume: { action: "customer.fetch", key: "documents" },
  mixTarget: "risk.rate",
  foreign: ["customer.update_address", "account.freeze", "case.reopen_all"],
  allDay: false,
  weekendSilent: false,
  budget: 140,
  setup(c, days) {
    const from = days.length > 12 ? c.r.int(2, days.length - 8) : -99;
    return { customers: c.r.uniform(15, 28) * c.scale, startHour: c.r.uniform(0.5, 2.5), campaign: from, pending: 0 };
  },
  day(c, d, p) {
    const camp = d.n >= p.campaign! && d.n < p.campaign! + 7;
    if (camp) markDay(c, d, "busy_day", "quarterly refresh campaign: 4×");
    if (c.r.chance(0.06) && d.n > 1) {
      p.pending = 1;
      return;
    }
    const catchUp = p.pending === 1;
    p.pending = 0;
    const n = c.r.poisson(p.customers! * (camp ? 4 : 1) * (catchUp ? 2 : 1) * (c.surge && d.n === c.surge.day ? c.surge.factor : 1));
    const s = at(c, d, p.startHour! + c.r.uniform(-40, 40) / 60);
    const len = Math.min(6, c.r.uniform(1, 3) * (catchUp ? 1.8 : 1) * (camp ? 1.6 : 1)) * HOUR;
    if (catchUp) addBenign(c, "outage_catchup", s, s + len, "previous night's job skipped: this one does both");
    for (let i = 0; i < n; i++) {
      let t = s + (len * i) / Math.max(1, n);
      const cust = resource(c, "cust", "cust:", 0.05);
      const docs = Math.max(1, Math.round(c.r.lognormal(4, 0.6)));
      t = emit(c, t, "data_access", "customer.fetch", { resource: cust, latency: 500, attributes: { documents: docs } });
      for (let k = 0; k < Math.min(3, docs); k++) t = emit(c, t + c.r.lognormal(3000, 0.8), "tool_call", "doc.verify", { resource: cust, latency: 1500 });
      if (tool(c, d) && c.r.chance(0.5)) t = emit(c, t + c.r.lognormal(2000, 0.6), "api_request", "sanctions.recheck", { resource: cust, latency: 800 });
      t = emit(c, t + c.r.lognormal(2000, 0.6), "tool_call", "risk.rate", { resource: cust, latency: 250 });
      emit(c, t + c.r.lognormal(1500, 0.6), "api_request", "case.close", { resource: cust, latency: 150 });
    }
  },
};

export const ARCHETYPES: readonly Arch[] = [SANCTIONS, UNDERWRITER, VOICEBOT, TRADING, AP, KYC];
export { DAY };
