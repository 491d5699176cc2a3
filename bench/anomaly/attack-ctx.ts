import type { AgentModel, Step } from "./model.ts";
import { localTime } from "./rhythm.ts";
import type { Rng } from "../common/rng.ts";
import type { Draft, EventType, Outcome } from "./types.ts";

/** What an attack sees: the agent's model and its normal timeline (drift attacks edit it in place). */
export interface AttackCtx {
  m: AgentModel;
  rng: Rng;
  /** Normal timeline, sorted by time. */
  drafts: Draft[];
  /** Anchor chosen by the planner (an active moment, or a dead hour for odd-hours). */
  start: number;
  end: number;
  /** Suite-level variant knobs. */
  pace: "fast" | "slow";
  nextSession(): string;
}

export interface Injection {
  /** New events (labelled by the caller). */
  add: Draft[];
  /** Existing events this attack altered (drift). */
  modified: Draft[];
  variant: string;
}

export function draft(s: Step | (Omit<Step, "gapMs"> & { gapMs?: number }), ts: number, session: string, outcome?: Outcome): Draft {
  return {
    ts: Math.round(ts), type: s.type, action: s.action, resource: s.resource, amount: s.amount, currency: s.currency,
    outcome: outcome ?? s.outcome ?? "success", latencyMs: Math.round(s.latencyMs), session,
  };
}

/** Lay steps out in time from `t`, honouring gaps and latencies, as the simulator does. */
export function layout(steps: Step[], t: number, session: string, rng: Rng, errorRate: number): Draft[] {
  const out: Draft[] = [];
  for (const s of steps) {
    t += s.gapMs;
    out.push(draft(s, t, session, s.outcome ?? (rng.chance(errorRate) ? "error" : "success")));
    t += s.latencyMs;
  }
  return out;
}

export function before(ctx: AttackCtx): Draft[] {
  return ctx.drafts.filter((d) => d.ts < ctx.start);
}

/** Median events per active minute so far: the agent's own notion of "busy". */
export function typicalPerMinute(drafts: Draft[]): number {
  const perMin = new Map<number, number>();
  for (const d of drafts) perMin.set(Math.floor(d.ts / 60_000), (perMin.get(Math.floor(d.ts / 60_000)) ?? 0) + 1);
  const xs = [...perMin.values()].sort((a, b) => a - b);
  return xs[Math.floor(xs.length / 2)] ?? 1;
}

export function knownActions(drafts: Draft[]): string[] {
  return [...new Set(drafts.map((d) => d.action))].sort();
}

/** Local hours with no normal activity at all in the whole history. */
export function deadLocalHours(drafts: Draft[], tzMin: number): number[] {
  const seen = new Array<number>(24).fill(0);
  for (const d of drafts) seen[localTime(d.ts, tzMin).hour]!++;
  return seen.map((n, h) => (n === 0 ? h : -1)).filter((h) => h >= 0);
}

/** A plausible event for an action the kind does not model (a discovered or forbidden tool). */
export function foreignStep(action: string, rng: Rng): Omit<Step, "gapMs"> {
  const verb = action.split(".").pop() ?? "";
  const type: EventType = /read|list|get|export|query|download/.test(verb) ? "data_access" : rng.pick(["tool_call", "api_request"] as const);
  const ns = action.split(".")[0] ?? "x";
  return { action, type, resource: rng.chance(0.7) ? `${ns}:${rng.hex(8)}` : undefined, latencyMs: rng.lognormal(200, 0.7) };
}

/** Swap the id at the end of a resource for a guessed one (enumeration, 404 scans). */
export function guessId(resource: string | undefined, rng: Rng): string {
  if (!resource) return `id:${rng.hex(8)}`;
  const m = /^(.*?)([0-9a-f]{4,}|\d+)([^0-9a-f]*)$/i.exec(resource);
  return m ? `${m[1]}${rng.hex(Math.max(4, m[2]!.length))}${m[3]}` : `${resource}-${rng.hex(6)}`;
}
