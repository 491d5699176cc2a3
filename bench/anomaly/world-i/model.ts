import type { SimEvent } from "../sim-event.ts";
import type { BenignType } from "../types.ts";
import type { Stream } from "./rng.ts";

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** One generated event, with the episode that injected it (absent: normal work). */
export interface Gen {
  ev: SimEvent;
  episode?: string;
}

export interface Window {
  type: BenignType;
  start: number;
  end: number;
  detail: string;
  /** Demand multiplier while in force (1: none). */
  mult: number;
}

/** What an agent instance is, as drawn once. */
export interface Agent {
  id: string;
  short: string;
  /** Local offset from UTC in hours (fractional zones allowed). */
  tz: number;
  /** Expected requests per ordinary day. */
  perDay: number;
  /** Hawkes branching ratio (expected follow-ups per request) and decay time. */
  branch: number;
  decayMs: number;
  start: number;
  end: number;
  windows: Window[];
  /** Days (local index from start) the agent is silent: team away. */
  away: Set<number>;
  /** Hours the daily curve is shifted by from `shiftFrom` on (shift_change). */
  shift?: { from: number; hours: number };
  newTool?: { from: number; action: string };
  migrationAt?: number;
  currencies: { code: string; median: number; sigma: number }[];
  /** Per-archetype mutable process state (ids of open payments, sweeps, messages…). */
  st: Record<string, unknown>;
  n: number;
}

export const localHour = (a: Agent, t: number): number => {
  const h = new Date(t + a.tz * HOUR).getUTCHours();
  return a.shift && t >= a.shift.from ? (h + 24 - a.shift.hours) % 24 : h;
};
export const localDate = (a: Agent, t: number): Date => new Date(t + a.tz * HOUR);

export interface Arch {
  name: string;
  scopes: string[];
  /** Declared in scope, never used by normal work. */
  dormant: [string, string];
  newTool: string;
  /** Relative demand per local hour (24 values) and per weekday (Sunday first). */
  curve: number[];
  week: number[];
  /** Demand multiplier of a whole local day (payday, month end, Monday backlog). */
  dayMult: (a: Agent, d: Date) => number;
  perDay: [number, number];
  branch: [number, number];
  decayMin: [number, number];
  /** Emit the events of one request arriving at t. */
  request: (a: Agent, r: Stream, t: number, out: Gen[]) => void;
  /** Extra scheduled work of a local day (the warehouse's 06:00 batch), optional. */
  daily?: (a: Agent, r: Stream, dayStart: number, out: Gen[]) => void;
  /** Attribute keys holding read volume, with the action that carries them. */
  volume?: { action: string; key: string; type: SimEvent["type"] };
  amounts: boolean;
}

const isMonthEnd = (d: Date): boolean => {
  const next = new Date(d.getTime() + DAY);
  return next.getUTCMonth() !== d.getUTCMonth() || d.getUTCDate() === 1;
};
const isQuarterEnd = (d: Date): boolean =>
  isMonthEnd(d) && [2, 5, 8, 11, 0, 3, 6, 9].includes(d.getUTCMonth()) && [0, 3, 6, 9].includes((d.getUTCMonth() + 1) % 12);

const lat = (r: Stream, median: number): number => Math.round(r.lognormal(median, 0.5));
const errOutcome = (r: Stream, p: number): SimEvent["outcome"] => (r.chance(p) ? (r.chance(0.7) ? "error" : "denied") : "success");

/** Push an event, and when it failed a retry or two a few seconds later (most succeed). */
function emit(r: Stream, out: Gen[], ev: SimEvent): void {
  out.push({ ev });
  let t = ev.ts;
  let last = ev.outcome;
  for (let k = 0; k < 2 && last === "error"; k++) {
    t += Math.round(r.pareto(1500, 1.3));
    last = r.chance(0.75) ? "success" : "error";
    out.push({ ev: { ...ev, ts: t, outcome: last, latencyMs: ev.latencyMs === undefined ? undefined : lat(r, ev.latencyMs) } });
  }
}

function amountOf(a: Agent, r: Stream): { amount: number; currency: string } {
  const c = r.pick(a.currencies);
  return { amount: Math.round(r.lognormal(c.median, c.sigma) * 100) / 100, currency: c.code };
}

interface Payment {
  id: string;
  amount: number;
  currency: string;
  refunded: boolean;
}

const payments: Arch = {
  name: "retail-payments-gateway-agent",
  scopes: ["payment.authorize", "payment.capture", "refund.create", "fraud.score", "payment.void", "dispute.respond", "payout.report"],
  dormant: ["payment.void", "dispute.respond"],
  newTool: "payout.report",
  curve: [0.25, 0.15, 0.1, 0.08, 0.08, 0.12, 0.3, 0.6, 0.9, 1.1, 1.3, 1.5, 1.7, 1.5, 1.3, 1.2, 1.2, 1.3, 1.6, 1.9, 2, 1.6, 1, 0.5],
  week: [1.25, 0.9, 0.9, 0.95, 1, 1.15, 1.35],
  dayMult: (_a, d) => (d.getUTCDate() === 1 || d.getUTCDate() === 15 ? 1.9 : 1),
  perDay: [40, 120],
  branch: [0.4, 0.75],
  decayMin: [2, 6],
  amounts: true,
  request: (a, r, t, out) => {
    const st = a.st as { open: Payment[] };
    st.open ??= [];
    if (r.chance(0.04) && st.open.length > 0) {
      // a customer asks for money back on an earlier captured payment
      const p = st.open[Math.floor(r.u() * Math.min(st.open.length, 400))]!;
      if (!p.refunded) {
        p.refunded = true;
        const amount = r.chance(0.6) ? p.amount : Math.round(p.amount * r.between(0.1, 1) * 100) / 100;
        emit(r, out, {
          ts: t,
          type: "transaction",
          action: "refund.create",
          resource: p.id,
          amount,
          currency: p.currency,
          outcome: errOutcome(r, 0.01),
          latencyMs: lat(r, 420),
        });
        return;
      }
    }
    const id = `pay_${a.short}_${(a.n++).toString(36)}`;
    const { amount, currency } = amountOf(a, r);
    let ts = t;
    emit(r, out, {
      ts,
      type: "api_request",
      action: "fraud.score",
      resource: id,
      outcome: errOutcome(r, 0.005),
      latencyMs: lat(r, 60),
      attributes: { score: Math.round(r.u() * 1000) / 1000 },
    });
    ts += Math.round(r.between(80, 900));
    const declined = r.chance(0.06);
    emit(r, out, {
      ts,
      type: "transaction",
      action: "payment.authorize",
      resource: id,
      amount,
      currency,
      outcome: declined ? "denied" : errOutcome(r, 0.008),
      latencyMs: lat(r, 350),
    });
    if (declined || !r.chance(0.93)) return;
    ts += Math.round(r.pareto(2000, 1.1));
    emit(r, out, { ts, type: "transaction", action: "payment.capture", resource: id, amount, currency, outcome: "success", latencyMs: lat(r, 280) });
    st.open.unshift({ id, amount, currency, refunded: false });
    if (st.open.length > 2000) st.open.length = 2000;
  },
};

const treasury: Arch = {
  name: "treasury-cash-positioning",
  scopes: ["balance.read", "forecast.run", "sweep.propose", "sweep.execute", "fx.hedge", "limit.override", "statement.fetch"],
  dormant: ["fx.hedge", "limit.override"],
  newTool: "statement.fetch",
  curve: [0, 0, 0, 0, 0, 0, 0.1, 0.6, 2, 2.4, 2, 1.6, 0.8, 1.2, 1.8, 1.8, 1.4, 0.8, 0.3, 0.1, 0, 0, 0, 0],
  week: [0.02, 1.2, 1, 1, 1, 0.9, 0.03],
  dayMult: (_a, d) => (isQuarterEnd(d) ? 3.5 : isMonthEnd(d) ? 2.5 : 1),
  perDay: [2, 6],
  branch: [0.2, 0.4],
  decayMin: [10, 30],
  amounts: true,
  volume: { action: "balance.read", key: "accounts", type: "data_access" },
  request: (a, r, t, out) => {
    const st = a.st as { pending: { id: string; amount: number; currency: string }[] };
    st.pending ??= [];
    const x = r.u();
    if (x < 0.45) {
      emit(r, out, {
        ts: t,
        type: "data_access",
        action: "balance.read",
        resource: `bank/${r.pick(["ops", "payroll", "reserve", "fx"])}`,
        outcome: errOutcome(r, 0.02),
        latencyMs: lat(r, 900),
        attributes: { accounts: r.int(4, 18) },
      });
    } else if (x < 0.7) {
      emit(r, out, {
        ts: t,
        type: "tool_call",
        action: "forecast.run",
        resource: `horizon/${r.pick(["13w", "30d", "eod"])}`,
        outcome: errOutcome(r, 0.02),
        latencyMs: lat(r, 6000),
      });
    } else {
      const id = `sw-${a.short}-${(a.n++).toString(36)}`;
      const c = a.currencies[0]!;
      const amount = Math.round(r.lognormal(c.median, c.sigma));
      emit(r, out, { ts: t, type: "tool_call", action: "sweep.propose", resource: id, amount, currency: c.code, outcome: "success", latencyMs: lat(r, 700) });
      if (r.chance(0.85)) {
        // approval takes minutes to hours: executed later in the same request chain
        const te = t + Math.round(r.pareto(4 * MIN, 1.2));
        emit(r, out, {
          ts: Math.min(te, t + 8 * HOUR),
          type: "transaction",
          action: "sweep.execute",
          resource: id,
          amount,
          currency: c.code,
          outcome: errOutcome(r, 0.02),
          latencyMs: lat(r, 1500),
        });
      }
    }
  },
};

const email: Arch = {
  name: "customer-email-triage",
  scopes: ["mail.list", "mail.read", "ticket.create", "reply.draft", "reply.send", "mail.forward_external", "mailbox.rule_create", "mail.label"],
  dormant: ["mail.forward_external", "mailbox.rule_create"],
  newTool: "mail.label",
  curve: [0.05, 0.03, 0.02, 0.02, 0.03, 0.1, 0.4, 1.1, 2, 2.2, 2, 1.8, 1.3, 1.7, 1.9, 1.8, 1.5, 1.1, 0.6, 0.4, 0.3, 0.2, 0.1, 0.07],
  week: [0.2, 1.9, 1.1, 1, 1, 0.9, 0.25],
  dayMult: () => 1,
  perDay: [8, 25],
  branch: [0.3, 0.6],
  decayMin: [3, 10],
  amounts: false,
  volume: { action: "mail.list", key: "messages", type: "data_access" },
  request: (a, r, t, out) => {
    let ts = t;
    const n = 1 + Math.min(20, Math.floor(r.pareto(1, 1.6)));
    emit(r, out, {
      ts,
      type: "data_access",
      action: "mail.list",
      resource: `inbox/${a.short}`,
      outcome: errOutcome(r, 0.01),
      latencyMs: lat(r, 300),
      attributes: { messages: n + r.int(0, 6) },
    });
    for (let i = 0; i < n; i++) {
      const m = `msg-${a.short}-${(a.n++).toString(36)}`;
      ts += Math.round(r.between(500, 6000));
      emit(r, out, { ts, type: "data_access", action: "mail.read", resource: m, outcome: errOutcome(r, 0.01), latencyMs: lat(r, 150) });
      const y = r.u();
      if (y < 0.3) {
        ts += Math.round(r.between(800, 4000));
        emit(r, out, { ts, type: "tool_call", action: "ticket.create", resource: m, outcome: errOutcome(r, 0.01), latencyMs: lat(r, 500) });
      } else if (y < 0.75) {
        ts += Math.round(r.between(2000, 12_000));
        emit(r, out, { ts, type: "tool_call", action: "reply.draft", resource: m, outcome: "success", latencyMs: lat(r, 2500) });
        if (r.chance(0.8)) {
          ts += Math.round(r.pareto(5000, 1.2));
          emit(r, out, { ts, type: "message", action: "reply.send", resource: m, outcome: errOutcome(r, 0.015), latencyMs: lat(r, 400) });
        }
      }
    }
  },
};

const TABLES = [
  "sales.orders",
  "sales.returns",
  "fin.ledger",
  "fin.invoices",
  "crm.accounts",
  "crm.contacts",
  "ops.shipments",
  "ops.inventory",
  "mkt.campaigns",
  "web.sessions",
];

const warehouse: Arch = {
  name: "data-warehouse-reporter",
  scopes: ["sql.run", "report.render", "report.publish", "table.export", "warehouse.grant", "dashboard.refresh"],
  dormant: ["table.export", "warehouse.grant"],
  newTool: "dashboard.refresh",
  curve: [0.02, 0.02, 0.02, 0.02, 0.02, 0.05, 0.2, 0.6, 1.5, 2.2, 2.3, 2, 1.2, 1.9, 2.2, 2, 1.6, 1, 0.4, 0.2, 0.1, 0.05, 0.03, 0.02],
  week: [0.1, 1.1, 1.1, 1.1, 1, 0.8, 0.1],
  dayMult: (_a, d) => (isMonthEnd(d) ? 4 : 1),
  perDay: [8, 30],
  branch: [0.5, 0.8],
  decayMin: [4, 15],
  amounts: false,
  volume: { action: "sql.run", key: "rows_returned", type: "data_access" },
  request: (a, r, t, out) => {
    const monthEnd = isMonthEnd(localDate(a, t));
    const table = tableOf(a, r, t);
    const rows = Math.round(r.lognormal(monthEnd ? 40_000 : 4000, 1.1));
    emit(r, out, {
      ts: t,
      type: "data_access",
      action: "sql.run",
      resource: table,
      outcome: errOutcome(r, 0.03),
      latencyMs: lat(r, 2500),
      attributes: { rows_returned: rows, bytes_scanned: Math.round(rows * r.lognormal(900, 0.6)) },
    });
  },
  daily: (a, r, dayStart, out) => {
    let ts = dayStart + 6 * HOUR + Math.round(r.between(0, 4 * MIN));
    const d = localDate(a, ts);
    const big = isMonthEnd(d);
    const k = big ? r.int(12, 24) : r.int(4, 8);
    for (let i = 0; i < k; i++) {
      ts += Math.round(r.pareto(8000, 1.4));
      const rows = Math.round(r.lognormal(big ? 200_000 : 30_000, 0.7));
      emit(r, out, {
        ts,
        type: "data_access",
        action: "sql.run",
        resource: tableOf(a, r, ts),
        outcome: errOutcome(r, 0.02),
        latencyMs: lat(r, 8000),
        attributes: { rows_returned: rows, bytes_scanned: Math.round(rows * r.lognormal(1200, 0.4)) },
      });
    }
    const rep = `rpt-${a.short}-${d.toISOString().slice(0, 10)}`;
    ts += Math.round(r.between(20_000, 90_000));
    emit(r, out, { ts, type: "tool_call", action: "report.render", resource: rep, outcome: "success", latencyMs: lat(r, 20_000) });
    ts += Math.round(r.between(5000, 60_000));
    emit(r, out, { ts, type: "tool_call", action: "report.publish", resource: rep, outcome: errOutcome(r, 0.01), latencyMs: lat(r, 900) });
  },
};

export function tableOf(a: Agent, r: Stream, t: number): string {
  const base = r.pick(TABLES);
  return a.migrationAt !== undefined && t >= a.migrationAt ? `v2_${base.replace(".", "_")}` : base;
}

const SERVICES = ["checkout", "search", "auth", "billing", "catalog", "notify"];

const devops: Arch = {
  name: "devops-runbook-bot",
  scopes: ["alert.ack", "log.search", "service.restart", "deploy.rollback", "ticket.update", "db.failover", "secret.rotate", "runbook.lookup"],
  dormant: ["db.failover", "secret.rotate"],
  newTool: "runbook.lookup",
  curve: Array.from({ length: 24 }, () => 1),
  week: [0.8, 1, 1.1, 1.1, 1.05, 1.1, 0.85],
  dayMult: () => 1,
  perDay: [0.8, 2.5],
  branch: [0.5, 0.8],
  decayMin: [20, 60],
  amounts: false,
  volume: { action: "log.search", key: "lines", type: "data_access" },
  request: (a, r, t, out) => {
    // one incident: acknowledged, investigated over a heavy-tailed duration, mitigated, closed
    const alert = `alert-${a.short}-${(a.n++).toString(36)}`;
    const svc = `svc/${r.pick(SERVICES)}`;
    const dur = Math.min(10 * HOUR, r.pareto(8 * MIN, 1.1));
    let ts = t + Math.round(r.between(5000, 90_000));
    emit(r, out, { ts, type: "api_request", action: "alert.ack", resource: alert, outcome: "success", latencyMs: lat(r, 200) });
    const searches = 1 + Math.min(40, Math.floor((dur / (3 * MIN)) * r.between(0.3, 1)));
    for (let i = 0; i < searches; i++) {
      ts += Math.round(r.between(0.2, 1.8) * (dur / searches));
      emit(r, out, {
        ts,
        type: "data_access",
        action: "log.search",
        resource: svc,
        outcome: errOutcome(r, 0.02),
        latencyMs: lat(r, 1200),
        attributes: { lines: Math.round(r.lognormal(800, 1)) },
      });
    }
    const y = r.u();
    if (y < 0.45)
      emit(r, out, {
        ts: (ts += 20_000),
        type: "tool_call",
        action: "service.restart",
        resource: svc,
        outcome: errOutcome(r, 0.05),
        latencyMs: lat(r, 15_000),
      });
    else if (y < 0.6)
      emit(r, out, {
        ts: (ts += 30_000),
        type: "tool_call",
        action: "deploy.rollback",
        resource: svc,
        outcome: errOutcome(r, 0.04),
        latencyMs: lat(r, 60_000),
        attributes: { alert },
      });
    emit(r, out, {
      ts: ts + Math.round(r.between(10_000, 120_000)),
      type: "api_request",
      action: "ticket.update",
      resource: alert,
      outcome: "success",
      latencyMs: lat(r, 300),
    });
  },
  daily: (a, r, dayStart, out) => {
    // routine ticket grooming in the on-call engineer's working hours: on-call weeks alternate
    // between the agent's own zone and a second one (st.tz2), so the routine hour jumps weekly
    const week = Math.floor((dayStart - a.start) / (7 * DAY));
    const shiftH = week % 2 === 1 ? ((a.st.tz2 as number) ?? 0) - a.tz : 0;
    const k = r.poisson(2);
    for (let i = 0; i < k; i++) {
      const ts = dayStart + Math.round((r.between(9, 17) - shiftH) * HOUR);
      emit(r, out, {
        ts,
        type: "api_request",
        action: "ticket.update",
        resource: `alert-${a.short}-${r.int(0, Math.max(0, a.n - 1)).toString(36)}`,
        outcome: "success",
        latencyMs: lat(r, 300),
      });
    }
  },
};

export const ARCHETYPES: Arch[] = [payments, treasury, email, warehouse, devops];
