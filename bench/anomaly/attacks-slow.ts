import { actionsOf, zeroTransitions } from "./chain.ts";
import type { Step } from "./model.ts";
import { draft, knownActions, layout, type AttackCtx, type Injection } from "./attack-ctx.ts";
import { HOUR } from "./rhythm.ts";
import type { Draft } from "./types.ts";

/** Ordinary-looking sessions in hours the agent never works (ctx.start is already in a dead hour). */
export function oddHours(ctx: AttackCtx): Injection {
  const { m, rng } = ctx;
  const k = rng.int(2, 6);
  const spanMs = rng.uniform(0.5, 2) * HOUR;
  const add: Draft[] = [];
  for (let i = 0; i < k; i++) {
    const t0 = ctx.start + (i / k) * spanMs + rng.uniform(0, spanMs / k / 2);
    add.push(...layout(m.session(rng), t0, ctx.nextSession(), rng, m.errorRate));
  }
  return { add, modified: [], variant: `${k} sessions over ${Math.round(spanMs / 60_000)} min` };
}

/**
 * Workflows that cannot happen: the kind's own (cancel an order never placed, execute an unapproved
 * payment) or, generically, a walk made only of transitions the agent's chain gives probability 0.
 */
export function impossibleSequence(ctx: AttackCtx): Injection {
  const { m, rng } = ctx;
  const session = ctx.nextSession();
  if (m.hooks.impossible && rng.chance(0.6)) {
    const steps = m.hooks.impossible(rng);
    return { add: layout(steps, ctx.start, session, rng, m.errorRate), modified: [], variant: `semantic ${steps.map((s) => s.action).join("→")}` };
  }
  const known = new Set(knownActions(ctx.drafts.filter((d) => d.ts < ctx.start)));
  const zero = zeroTransitions(m.chain).filter(([a, b]) => known.has(a) && known.has(b));
  let a = rng.pick(actionsOf(m.chain).filter((x) => known.has(x)));
  const acts = [a];
  for (let k = rng.int(3, 6); k > 0; k--) {
    const next = zero.filter(([x]) => x === a);
    if (next.length === 0) break;
    a = rng.pick(next)[1];
    acts.push(a);
  }
  const steps: Step[] = acts.map((action, i) => ({ action, gapMs: i ? rng.lognormal(3000, 0.6) : 0, ...m.emit(action, rng) }));
  return { add: layout(steps, ctx.start, session, rng, m.errorRate), modified: [], variant: `generic ${acts.join("→")}` };
}

/** Amounts creep up 1–3 %/hour, compounding, over 1–3 days (skimming that stays under any one-off alarm). */
export function driftAmount(ctx: AttackCtx): Injection {
  const { m, rng } = ctx;
  const rate = rng.uniform(0.01, 0.03);
  const hours = rng.int(24, 72);
  const stop = Math.min(ctx.end, ctx.start + hours * HOUR);
  const amountActs = new Set(m.hooks.amountActions);
  const modified: Draft[] = [];
  for (const d of ctx.drafts) {
    if (d.ts < ctx.start || d.ts >= stop || d.amount === undefined || !amountActs.has(d.action)) continue;
    d.amount = Math.round(d.amount * Math.pow(1 + rate, (d.ts - ctx.start) / HOUR) * 100) / 100;
    modified.push(d);
  }
  const top = Math.pow(1 + rate, (stop - ctx.start) / HOUR);
  return { add: [], modified, variant: `+${(rate * 100).toFixed(1)}%/h over ${Math.round((stop - ctx.start) / HOUR)} h (×${top.toFixed(1)} at the end)` };
}

/** The action mix slides toward the agent's rare sensitive action over 1–3 days. */
export function driftMix(ctx: AttackCtx): Injection {
  const { m, rng } = ctx;
  const action = m.hooks.sensitive!;
  const hours = rng.int(24, 72);
  const stop = Math.min(ctx.end, ctx.start + hours * HOUR);
  const pMax = rng.uniform(0.3, 0.6);
  const add: Draft[] = [];
  for (const d of ctx.drafts) {
    if (d.ts < ctx.start || d.ts >= stop || d.action === action) continue;
    const p = pMax * ((d.ts - ctx.start) / (stop - ctx.start));
    // Piggy-backs on normal sessions: right after an ordinary step, the sensitive one.
    if (rng.chance(p * 0.3)) add.push(draft({ action, ...m.emit(action, rng) }, d.ts + (d.latencyMs ?? 0) + rng.uniform(2000, 20_000), d.session ?? ctx.nextSession(), rng.chance(m.errorRate) ? "error" : "success"));
  }
  return { add, modified: [], variant: `${action} up to ${(pMax * 30).toFixed(0)}% of steps over ${Math.round((stop - ctx.start) / HOUR)} h` };
}
