import type { SimEvent } from "../sim-event.ts";
import { ARCHETYPES, type Archetype, type Step } from "./archetypes.ts";
import type { Rand } from "./random.ts";

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/** One draw of an archetype: everything that makes this agent's normal behaviour its own. */
export interface AgentParams {
  id: string;
  arch: Archetype;
  tz: number;
  peak: number;
  start: number;
  end: number;
  baseAmount: number;
  baseVolume: number;
  amountSigma: number;
  errorRate: number;
  currency: string;
  pairs: string[];
  accounts: string[];
  /** Per-action amount and latency scale, so two actions of one agent differ. */
  actionScale: Map<string, number>;
  latency: Map<string, number>;
  /** Days (UTC midnight of the local day) with no work, or 2–4× work. */
  holidays: Set<number>;
  busy: Map<number, number>;
  outages: { start: number; end: number }[];
  adoptFrom: number;
  shiftFrom: number;
  newFamilyFrom: number;
  /** Rate of big legitimate tickets per amount-bearing step. */
  bigTicket: number;
}

export function drawAgent(r: Rand, id: string, archName: string, start: number, end: number): AgentParams {
  const arch = ARCHETYPES.find((a) => a.name === archName)!;
  const days = Math.round((end - start) / DAY);
  const holidays = new Set<number>();
  const busy = new Map<number, number>();
  for (let d = 0; d < days; d++) {
    const day = start + d * DAY;
    if (r.chance(0.04)) holidays.add(day);
    else if (r.chance(0.07)) busy.set(day, r.uniform(2, 4));
  }
  const outages = Array.from({ length: r.int(0, 2) }, () => {
    const s = start + r.uniform(3, days - 2) * DAY;
    return { start: s, end: s + r.uniform(2, 7) * HOUR };
  });
  const allSteps = [...arch.templates.flatMap((t) => t.steps), ...arch.dormant, arch.adopt];
  return {
    id, arch, tz: r.pick(arch.tz), peak: r.uniform(...arch.peak), start, end,
    baseAmount: Math.exp(r.uniform(Math.log(arch.amount[0]), Math.log(arch.amount[1]))),
    baseVolume: Math.exp(r.uniform(Math.log(arch.volume[0]), Math.log(arch.volume[1]))),
    amountSigma: r.uniform(0.35, 0.9), errorRate: r.uniform(0.003, 0.04),
    currency: r.pick(arch.currencies),
    pairs: ["EURUSD", "USDJPY", "GBPUSD", "EURCHF", "AUDUSD", "USDCAD"].slice(0, r.int(2, 6)),
    accounts: Array.from({ length: r.int(3, 12) }, (_, i) => `ACC${1000 + i * 17}`),
    actionScale: new Map(allSteps.map((s) => [s.action, r.uniform(0.5, 2)])),
    latency: new Map(allSteps.map((s) => [s.action, r.uniform(40, 900)])),
    holidays, busy, outages,
    adoptFrom: r.chance(0.6) ? start + r.uniform(0.35, 0.8) * days * DAY : Infinity,
    shiftFrom: arch.shifts && r.chance(0.6) ? start + r.uniform(0.4, 0.7) * days * DAY : Infinity,
    newFamilyFrom: r.chance(0.4) ? start + r.uniform(0.3, 0.8) * days * DAY : Infinity,
    bigTicket: r.uniform(0.002, 0.01),
  };
}

/** Local weekday and hour of a UTC time for this agent. */
export function localTime(p: AgentParams, t: number): { dow: number; hour: number; dayStart: number } {
  const local = new Date(t + p.tz * HOUR);
  const dayStart = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate()) - p.tz * HOUR;
  return { dow: local.getUTCDay(), hour: local.getUTCHours(), dayStart };
}

/** Month-end (last two local days of the month) multiplies work for batch-minded agents. */
export function monthEnd(p: AgentParams, t: number): boolean {
  const local = new Date(t + p.tz * HOUR);
  const next = new Date(local.getTime() + 2 * DAY);
  return next.getUTCMonth() !== local.getUTCMonth();
}

/** Base intensity of the hour of the week (no holidays, busy days or outages). */
export function baseIntensity(p: AgentParams, t: number): number {
  const { dow, hour } = localTime(p, t);
  return p.arch.shape(dow, hour, t >= p.shiftFrom);
}

/** A concrete event before ids and labels (the harness's shape, sim-event.ts). */
export type Ev = SimEvent;

/** Customer ids: mostly a Zipf-like reuse of known customers, sometimes a new one. */
export class Pool {
  private ids: string[] = [];
  constructor(private prefix: string) {}
  take(r: Rand, pNew: number): string {
    if (this.ids.length === 0 || r.chance(pNew)) {
      const id = `${this.prefix}${(100_000 + Math.floor(r.next() * 900_000)).toString(36)}`;
      this.ids.push(id);
      return id;
    }
    const i = Math.floor(this.ids.length * Math.pow(r.next(), 2.2));
    return this.ids[this.ids.length - 1 - i]!;
  }
}

export interface TaskCtx {
  r: Rand;
  p: AgentParams;
  customers: Pool;
  caseId: string;
  /** Resource family prefix used once the agent adopts a new family (benign new_resource). */
  family?: string;
}

export function fillResource(step: Step, c: TaskCtx, t: number): string | undefined {
  if (!step.res) return undefined;
  const day = new Date(t + c.p.tz * HOUR).toISOString().slice(0, 10);
  const res = step.res
    .replace("{case}", c.caseId)
    .replace("{cust}", c.customers.take(c.r, 0.15))
    .replace("{day}", day)
    .replace("{pair}", c.r.pick(c.p.pairs))
    .replace("{part}", String(c.r.int(0, 199)).padStart(4, "0"))
    .replace("{acct}", c.r.pick(c.p.accounts));
  return c.family ? `${c.family}/${res}` : res;
}

/** One step as an event: amount, read volume, outcome and latency drawn from the agent's own scales. */
export function stepEvent(step: Step, c: TaskCtx, t: number, amountFactor = 1, volumeFactor = 1): Ev {
  const { r, p } = c;
  const scale = p.actionScale.get(step.action) ?? 1;
  const e: Ev = {
    ts: Math.round(t), type: step.type, action: step.action, resource: fillResource(step, c, t),
    outcome: r.chance(p.errorRate) ? (r.chance(0.15) ? "denied" : "error") : "success",
    latencyMs: Math.round(r.logNormal(p.latency.get(step.action) ?? 200, 0.5)),
  };
  if (step.amount !== undefined) {
    e.amount = Math.round(r.logNormal(p.baseAmount * step.amount * scale, p.amountSigma) * amountFactor * 100) / 100;
    e.currency = p.currency;
  }
  if (step.read) e.attributes = { [step.read.key]: Math.max(1, Math.round(r.logNormal(p.baseVolume * step.read.scale * scale, 0.6) * volumeFactor)) };
  return e;
}
