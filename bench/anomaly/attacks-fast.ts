import { inScope } from "@kakunin/shared";
import { RISKY_TOOLS, outOfScopeOf, type Step } from "./model.ts";
import {
  before, draft, foreignStep, guessId, knownActions, layout, typicalPerMinute, type AttackCtx, type Injection,
} from "./attack-ctx.ts";
import type { Draft, Outcome } from "./types.ts";

/** 10–50× the agent's busy-minute rate for a few minutes: a runaway loop, or a flood of its usual mix. */
export function rateBurst(ctx: AttackCtx): Injection {
  const { m, rng } = ctx;
  const mult = rng.uniform(10, 50);
  const perMin = Math.min(300, Math.max(12, typicalPerMinute(before(ctx)) * mult));
  const minutes = rng.int(2, 6);
  const n = Math.round(perMin * minutes);
  const loop = rng.chance(0.5);
  const known = knownActions(before(ctx));
  const loopAction = rng.pick(known);
  const steps: Step[] = [];
  while (steps.length < n) steps.push(...(loop ? [{ action: loopAction, gapMs: 0, ...m.emit(loopAction, rng) }] : m.session(rng)));
  const session = ctx.nextSession();
  // Towards the end, upstream rate limits start failing some of the calls.
  const add = steps.slice(0, n).map((s, i) => draft(s, ctx.start + (i + rng.next()) * (minutes * 60_000) / n, session,
    i > n * 0.6 && rng.chance(0.15) ? "error" : rng.chance(m.errorRate) ? "error" : "success"));
  return { add, modified: [], variant: `${loop ? `loop ${loopAction}` : "flood"} ${Math.round(perMin)}/min ×${mult.toFixed(0)} for ${minutes} min` };
}

/** One transaction (or a full workflow) at 20–500× the usual amount. */
export function amountSpike(ctx: AttackCtx): Injection {
  const { m, rng } = ctx;
  const factor = Math.exp(rng.uniform(Math.log(20), Math.log(500)));
  const session = ctx.nextSession();
  if (m.hooks.spike) return { add: layout(m.hooks.spike(rng, factor), ctx.start, session, rng, 0), modified: [], variant: `workflow ×${factor.toFixed(0)}` };
  const action = rng.pick(m.hooks.amountActions);
  const k = rng.int(1, 3);
  const steps: Step[] = Array.from({ length: k }, (_, i) => {
    const e = m.emit(action, rng);
    return { action, gapMs: i ? rng.lognormal(20_000, 0.8) : 0, ...e, amount: (e.amount ?? 1) * factor, outcome: undefined };
  });
  return { add: layout(steps, ctx.start, session, rng, 0), modified: [], variant: `${k}× ${action} ×${factor.toFixed(0)}` };
}

function mixedOutcome(rng: AttackCtx["rng"], denied: number, error: number): Outcome {
  const x = rng.next();
  return x < denied ? "denied" : x < denied + error ? "error" : "success";
}

/** Several never-used tools in a row: in scope, out of scope or both; slow pace spreads them out. */
export function toolDiscovery(ctx: AttackCtx): Injection {
  const { m, rng } = ctx;
  const known = new Set(knownActions(ctx.drafts));
  const inScoped = m.hooks.unusedInScope.filter((a) => !known.has(a));
  const outScope = outOfScopeOf(m.scopes, [...m.hooks.outOfScope, ...RISKY_TOOLS]).filter((a) => !known.has(a));
  const mode = inScoped.length >= 3 && (outScope.length === 0 || rng.chance(0.4)) ? "in-scope" : outScope.length && (inScoped.length === 0 || rng.chance(0.5)) ? "out-of-scope" : "mixed";
  const pool = mode === "in-scope" ? inScoped : mode === "out-of-scope" ? outScope : [...inScoped, ...outScope];
  const tools = rng.sample(pool.length ? pool : RISKY_TOOLS, rng.int(3, 8));
  const session = ctx.nextSession();
  let t = ctx.start;
  const add: Draft[] = [];
  for (const tool of tools) {
    add.push(draft(foreignStep(tool, rng), t, session, mixedOutcome(rng, inScope(m.scopes, tool) ? 0.1 : 0.45, 0.2)));
    t += ctx.pace === "slow" ? rng.lognormal(6 * 60_000, 0.6) : rng.lognormal(4000, 0.6);
  }
  return { add, modified: [], variant: `${ctx.pace} ${mode} ${tools.length} tools` };
}

/** A few actions no declared scope covers, slipped in among normal work over up to half an hour. */
export function outOfScope(ctx: AttackCtx): Injection {
  const { m, rng } = ctx;
  const acts = rng.sample(m.hooks.outOfScope, rng.int(1, 4));
  const session = ctx.nextSession();
  let t = ctx.start;
  const add = acts.map((a) => {
    const d = draft(foreignStep(a, rng), t, session, mixedOutcome(rng, 0.25, 0.05));
    t += rng.uniform(30_000, 8 * 60_000);
    return d;
  });
  return { add, modified: [], variant: acts.join(",") };
}

/** Data access across many distinct resources with the kind's own data tool: fast, or low and slow. */
export function exfiltration(ctx: AttackCtx): Injection {
  const { m, rng } = ctx;
  const ex = m.hooks.exfil;
  const slow = ctx.pace === "slow";
  const n = slow ? rng.int(60, 250) : rng.int(80, 400);
  const spanMs = slow ? n * rng.uniform(20_000, 60_000) : rng.uniform(3, 15) * 60_000;
  const session = ctx.nextSession();
  const add: Draft[] = [];
  for (let i = 0; i < n; i++) {
    const t = ctx.start + (i + rng.uniform(0, 0.9)) * (spanMs / n);
    add.push(draft({ action: ex.action, type: ex.type, resource: ex.resource(rng, i), latencyMs: rng.lognormal(120, 0.5) }, t, session,
      rng.chance(m.errorRate) ? "error" : "success"));
  }
  return { add, modified: [], variant: `${slow ? "slow" : "fast"} ${ex.action} ×${n} in ${Math.round(spanMs / 60_000)} min` };
}

/** Probing: a storm of denied calls (permission probing) or errors (guessing ids). */
export function errorStorm(ctx: AttackCtx): Injection {
  const { m, rng } = ctx;
  const n = rng.int(20, 80);
  const minutes = rng.uniform(2, 10);
  const probe = rng.chance(0.5);
  const known = knownActions(before(ctx));
  const foreign = outOfScopeOf(m.scopes, [...m.hooks.outOfScope, ...RISKY_TOOLS]);
  const session = ctx.nextSession();
  const add: Draft[] = [];
  for (let i = 0; i < n; i++) {
    const t = ctx.start + (i + rng.next()) * (minutes * 60_000) / n;
    const useForeign = probe && foreign.length > 0 && rng.chance(0.4);
    const action = useForeign ? rng.pick(foreign) : rng.pick(known);
    const base = useForeign ? foreignStep(action, rng) : { action, ...m.emit(action, rng) };
    const s = probe ? base : { ...base, resource: guessId(base.resource, rng) };
    add.push(draft(s, t, session, probe ? mixedOutcome(rng, 0.7, 0.2) : mixedOutcome(rng, 0.1, 0.75)));
  }
  return { add, modified: [], variant: `${probe ? "denied-probe" : "id-scan"} ${n} in ${minutes.toFixed(0)} min` };
}
