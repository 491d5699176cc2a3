import { inScope } from "@kakunin/shared";
import { walk, type Chain } from "./chain.ts";
import type { LocalTime, Rhythm } from "./rhythm.ts";
import type { Rng } from "../common/rng.ts";
import type { EventType, Outcome } from "./types.ts";

/** One event as a kind renders it; the simulator adds time, outcome noise and labels. */
export interface Emitted {
  type: EventType;
  resource?: string;
  amount?: number;
  currency?: string;
  latencyMs: number;
  /** Set when the kind itself decides (a refund over the policy limit is denied). */
  outcome?: Outcome;
}

export interface Step extends Emitted {
  action: string;
  /** Think time before this step, after the previous one completed. */
  gapMs: number;
}

export interface Planned {
  t0: number;
  steps: Step[];
}

/** What attacks need to know about a kind to look like that kind. */
export interface AttackHooks {
  /** Actions that carry amounts (empty: no amount attacks on this kind). */
  amountActions: string[];
  /** A rare but legitimate, sensitive action the mix can drift toward. */
  sensitive?: string;
  /** Tools covered by the declared scopes that this agent has never used. */
  unusedInScope: string[];
  /** Plausible tools the declared scopes do not cover. */
  outOfScope: string[];
  /** Mass data access with this kind's own data tool. */
  exfil: { action: string; type: EventType; resource(rng: Rng, i: number): string };
  /** A workflow that cannot happen legitimately (cancel orders never placed…), when the kind has one. */
  impossible?(rng: Rng): Step[];
  /** A full transaction with a huge amount, when one event would not look like this kind. */
  spike?(rng: Rng, factor: number): Step[];
}

export interface AgentModel {
  kind: string;
  /** Human-readable summary of this instance's parameter draw. */
  profile: string;
  scopes: string[];
  rhythm: Rhythm;
  /** Ad-hoc session starts per hour at rhythm weight 1. */
  sessionRate: number;
  /** Concurrent sessions (a support bot serves several conversations at once). */
  lanes: number;
  /** Background error share, 1–5 %. */
  errorRate: number;
  chain: Chain;
  session(rng: Rng): Step[];
  /** Sessions that run on a schedule (batch jobs, payment runs) in the hour starting at slot. */
  scheduled?(slot: number, lt: LocalTime, rng: Rng, scale: number): Planned[];
  emit(action: string, rng: Rng): Emitted;
  /** Benign: start using a new in-scope tool from now on. */
  adoptTool(tool: string, rng: Rng): void;
  /** Benign: a new customer, instrument, vendor or dataset; returns resource prefixes to tag. */
  growResources(rng: Rng): string[];
  hooks: AttackHooks;
}

/** Tools an attacker or a confused agent reaches for, whatever the agent's job. */
export const RISKY_TOOLS = [
  "admin.users.list", "iam.keys.create", "secrets.read", "shell.exec", "files.list", "db.query",
  "email.send", "storage.list_buckets", "k8s.exec", "browser.download", "payments.execute",
  "crm.export", "users.impersonate", "billing.update", "webhooks.create",
];

export function outOfScopeOf(scopes: readonly string[], candidates: readonly string[]): string[] {
  return [...new Set(candidates)].filter((a) => !inScope(scopes, a));
}

export function unusedOf(scopes: readonly string[], used: readonly string[], candidates: readonly string[]): string[] {
  const u = new Set(used);
  return [...new Set(candidates)].filter((a) => inScope(scopes, a) && !u.has(a));
}

/** Multiply every weight by a per-instance factor, so two agents of a kind follow different habits. */
export function jitterChain(c: Chain, rng: Rng, spread = 0.4): Chain {
  const j = (w: Record<string, number>) =>
    Object.fromEntries(Object.entries(w).map(([k, v]) => [k, v * rng.uniform(1 - spread, 1 + spread)]));
  return { start: j(c.start), next: Object.fromEntries(Object.entries(c.next).map(([a, w]) => [a, j(w)])) };
}

/** The default session: a chain walk, each step rendered by the kind. */
export function chainSession(
  m: Pick<AgentModel, "chain" | "emit">,
  rng: Rng,
  maxLen: number,
  gap: (from: string, to: string, rng: Rng) => number,
): Step[] {
  const acts = walk(m.chain, rng, maxLen);
  return acts.map((action, i) => ({ action, gapMs: i === 0 ? 0 : gap(acts[i - 1] ?? action, action, rng), ...m.emit(action, rng) }));
}

export function latency(rng: Rng, median: number, sigma = 0.5): number {
  return Math.round(rng.lognormal(median, sigma));
}

/** Amounts are money: two decimals (zero for JPY). */
export function money(x: number, currency: string): number {
  return currency === "JPY" ? Math.max(1, Math.round(x)) : Math.max(0.01, Math.round(x * 100) / 100);
}

export interface KindVariant {
  holdout: boolean;
  /** Currencies this suite draws from (holdout adds GBP, JPY, CHF). */
  currencies: string[];
}

export interface KindDef {
  name: string;
  create(rng: Rng, v: KindVariant): AgentModel;
}
