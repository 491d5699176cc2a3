import type { BenignType, EventType, Outcome } from "../types.ts";
import type { SimEvent } from "../sim-event.ts";
import type { Rand } from "./random.ts";

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** One simulated event before it becomes an AgentEvent (the harness's shape, sim-event.ts). */
export type Ev = SimEvent;

/** A stable resource an agent keeps coming back to (service, vendor, document, list), usable from `since`. */
export interface PoolEntry {
  id: string;
  since: number;
}

/** Everything drawn for one agent: the archetype reads it, the benign surprises change it over time. */
export interface Profile {
  id: string;
  arch: string;
  region: string;
  /** UTC offset in hours (the local clock the agent's rhythm follows). */
  tz: number;
  /** Task starts per hour at intensity 1. */
  rate: number;
  /** Per-agent multiplier per hour of the (local) week, 168 entries: no two agents share a rhythm. */
  jitter: number[];
  errRate: number;
  gapXm: number;
  gapAlpha: number;
  amountMedian: number;
  currency: string;
  /** Optional tools this agent uses besides the archetype's core steps. */
  tools: string[];
  unused: string[];
  scopes: string[];
  rare: string;
  /** AML: local hour of the nightly batch. */
  batchHour: number;
  pool: PoolEntry[];
  start: number;
  end: number;
  /** Day factor per local day index (busy days, holidays, month-end, devops burstiness). */
  dayFactor: Map<number, number>;
  shift?: { at: number; hours: number };
  replace?: { at: number; from: string; to: string };
  newStep?: { at: number; action: string; type: EventType };
  newTools: { at: number; name: string }[];
}

/** An event with its ground truth before the suite assigns ids. */
export interface Labelled {
  ev: Ev;
  episode?: string;
  benign?: BenignType;
}

/** Hours to add to UTC to get the agent's working clock at `t` (a shift_change moves the working hours later). */
export const tzAt = (p: Profile, t: number): number => p.tz - (p.shift && t >= p.shift.at ? p.shift.hours : 0);

export function localClock(p: Profile, t: number): { hour: number; dow: number; day: number } {
  const l = t + tzAt(p, t) * HOUR;
  const d = new Date(l);
  return { hour: d.getUTCHours(), dow: d.getUTCDay(), day: Math.floor(l / DAY) };
}

export function matchesScope(scopes: readonly string[], action: string): boolean {
  return scopes.some((s) => s === "*" || s === action || (s.endsWith(".*") && action.startsWith(s.slice(0, -1))));
}

/** Builds one task: each step follows the previous one after a heavy-tailed (Pareto) gap. */
export class Seq {
  readonly evs: Ev[] = [];
  constructor(
    private readonly r: Rand,
    private readonly p: Profile,
    public t: number,
  ) {}
  gap(scale = 1): void {
    this.t += Math.min(45 * MIN, this.r.pareto(this.p.gapXm * 1000, this.p.gapAlpha) * scale);
  }
  step(type: EventType, action: string, o: Partial<Omit<Ev, "ts" | "type" | "action">> = {}, gapScale = 1): Ev {
    if (this.evs.length > 0) this.gap(gapScale);
    const ev: Ev = {
      ts: Math.round(this.t),
      type,
      action,
      outcome: o.outcome ?? normalOutcome(this.r, this.p),
      latencyMs: Math.round(this.r.lognormal(300, 0.6)),
      ...o,
    };
    this.evs.push(ev);
    return ev;
  }
}

export function normalOutcome(r: Rand, p: Profile): Outcome {
  const x = r.next();
  return x < p.errRate ? "error" : x < p.errRate + 0.002 ? "denied" : "success";
}

/** A pool resource available at `t`; entries added recently (new_resource) are favoured for a while so they show up. */
export function poolPick(r: Rand, p: Profile, t: number): string {
  const live = p.pool.filter((e) => e.since <= t);
  const fresh = live.filter((e) => e.since > p.start && t - e.since < 3 * DAY);
  return (fresh.length > 0 && r.chance(0.4) ? r.pick(fresh) : r.pick(live)).id;
}

/** Rounds money to cents (or whole yen). */
export const money = (x: number, currency: string): number => (currency === "JPY" ? Math.round(x) : Math.round(x * 100) / 100);
