import type { SimEvent } from "../sim-event.ts";
import type { AttackType } from "../types.ts";
import { DAY, type Gen, HOUR, local, localMidnight, MIN, type Params, round2, SEC } from "./model.ts";
import type { Rng } from "./random.ts";

export interface AttackCtx {
  r: Rng;
  p: Params;
  normal: Gen[];
  lo: number;
  hi: number;
  episode: string;
  /** How many episodes of this family came before in the world: even → strong, odd → subtle. */
  nth: number;
}

export interface AttackOut {
  /** New events (labelled with the episode). */
  gens: Gen[];
  /** Normal events relabelled (and changed) in place as part of the episode (drift_amount). */
  touched?: Gen[];
  variant: string;
}

const copy = (ev: SimEvent, ts: number): SimEvent => ({
  ...ev,
  ts: Math.round(ts),
  outcome: "success",
  ...(ev.attributes ? { attributes: { ...ev.attributes } } : {}),
});

/** A time in [lo, hi] at which the agent was working: a normal event's time, else uniform. */
function anchor(c: AttackCtx): number {
  const inside = c.normal.filter((g) => g.ev.ts >= c.lo && g.ev.ts < c.hi && !g.benign);
  return inside.length ? c.r.pick(inside).ev.ts + c.r.between(5 * SEC, 3 * MIN) : c.r.between(c.lo, c.hi);
}

const templates = (c: AttackCtx, action: string): SimEvent[] =>
  c.normal.filter((g) => g.ev.action === action && g.ev.outcome === "success" && !g.benign).map((g) => g.ev);

/** Local hours of the day in which the agent never had a normal event. */
export function deadHours(p: Params, normal: Gen[]): number[] {
  const seen = new Set(normal.map((g) => Math.floor(local(p.zone, g.ev.ts).hour)));
  return Array.from({ length: 24 }, (_, h) => h).filter((h) => !seen.has(h));
}

export function applicable(p: Params, normal: Gen[], t: AttackType): boolean {
  switch (t) {
    case "amount_spike":
      return p.money !== undefined && templates({ normal } as AttackCtx, p.money.action).length >= 20;
    case "drift_amount":
      return p.money !== undefined && p.arch !== "payroll-batch" && templates({ normal } as AttackCtx, p.money.action).length >= 200;
    case "exfiltration":
      return p.volume !== undefined;
    case "odd_hours":
      return deadHours(p, normal).length >= 3;
    case "drift_mix":
      return p.rare !== undefined && normal.length >= 1500;
    default:
      return true;
  }
}

const ev = (c: AttackCtx, ts: number, e: Omit<SimEvent, "ts">): Gen => ({ ev: { ...e, ts: Math.round(ts) }, episode: c.episode });

export const ATTACKS: Record<AttackType, (c: AttackCtx) => AttackOut> = {
  rate_burst: (c) => {
    const { r, p } = c;
    const t0 = anchor(c);
    const tpl = templates(c, p.top.action);
    const base = tpl.length ? tpl : [{ ts: 0, type: p.top.type, action: p.top.action, outcome: "success" as const }];
    if (c.nth % 2 === 0) {
      const n = r.int(150, 900);
      const dur = r.between(5, 25) * MIN;
      const enumerate = r.chance(0.5);
      const gens = Array.from({ length: n }, (_, k) => {
        const e = copy(r.pick(base), t0 + (k / n) * dur + r.between(0, 400));
        if (enumerate) e.resource = `${p.top.resources[0]?.split(":")[0] ?? "res"}:enum${k}`;
        return { ev: e, episode: c.episode };
      });
      return { gens, variant: `fast ${n}× ${p.top.action} in ${Math.round(dur / MIN)} min${enumerate ? ", enumerating fresh resources" : ""}` };
    }
    // Subtle: 3–4× the agent's own rate of the top action per active hour, for 1–2 h, interleaved.
    const active = new Set(base.map((e) => Math.floor(e.ts / HOUR))).size || 1;
    const perHour = base.length / active;
    const dur = r.between(1, 2) * HOUR;
    const mult = r.between(3, 4);
    const n = Math.max(15, Math.round(perHour * (mult - 1) * (dur / HOUR)));
    const gens = Array.from({ length: n }, () => ({ ev: copy(r.pick(base), t0 + r.next() * dur), episode: c.episode }));
    return { gens, variant: `subtle ${n}× extra ${p.top.action} over ${(dur / HOUR).toFixed(1)} h (${mult.toFixed(1)}× its rate per active hour)` };
  },
  amount_spike: (c) => {
    const { r, p } = c;
    const tpl = templates(c, p.money!.action);
    const strong = c.nth % 2 === 0;
    const n = r.int(1, 3);
    const gens: Gen[] = [];
    let t = anchor(c);
    const factors: number[] = [];
    for (let k = 0; k < n; k++) {
      const f = strong ? r.between(15, 200) : r.between(4, 7);
      factors.push(f);
      const e = copy(r.pick(tpl), t);
      e.amount = round2(p.money!.median * f * r.between(0.9, 1.1));
      gens.push({ ev: e, episode: c.episode });
      t += r.between(2 * MIN, 40 * MIN);
    }
    return { gens, variant: `${strong ? "" : "subtle "}${n}× ${p.money!.action} at ${factors.map((f) => f.toFixed(0)).join("/")}× median` };
  },
  dormant_tool: (c) => {
    const { r, p } = c;
    const t0 = anchor(c);
    const res = p.top.resources.length ? p.top.resources : [undefined];
    if (c.nth % 2 === 0) {
      const n = r.int(4, 15);
      const tools = r.chance(0.5) ? p.dormant : [p.dormant[0]];
      const gens = Array.from({ length: n }, (_, k) =>
        ev(c, t0 + (k / n) * 10 * MIN + r.between(0, 20 * SEC), {
          type: "tool_call",
          action: r.pick(tools),
          resource: r.pick(res),
          outcome: "success",
          latencyMs: Math.round(r.lognormal(200, 0.4)),
        }),
      );
      return { gens, variant: `${n}× ${tools.join("+")} in 10 min` };
    }
    const gens = [0, 1].map((k) =>
      ev(c, t0 + k * r.between(30, 90) * MIN, {
        type: "tool_call",
        action: p.dormant[1],
        resource: r.pick(res),
        outcome: "success",
        latencyMs: Math.round(r.lognormal(200, 0.4)),
      }),
    );
    return { gens, variant: `subtle 2× ${p.dormant[1]} an hour apart, inside normal work` };
  },
  out_of_scope: (c) => {
    const { r, p } = c;
    const t0 = anchor(c);
    if (c.nth % 2 === 0) {
      const acts = r.shuffle(p.foreign).slice(0, r.int(1, 2));
      const n = r.int(3, 12);
      const gens = Array.from({ length: n }, (_, k) =>
        ev(c, t0 + k * r.between(20 * SEC, 2 * MIN), {
          type: "api_request",
          action: r.pick(acts),
          resource: `target:${r.token(5)}`,
          outcome: r.chance(0.3) ? "denied" : "success",
          latencyMs: Math.round(r.lognormal(200, 0.4)),
        }),
      );
      return { gens, variant: `${n}× ${acts.join("+")}` };
    }
    const a = r.pick(p.foreign);
    return {
      gens: [ev(c, t0, { type: "api_request", action: a, resource: `target:${r.token(5)}`, outcome: "success", latencyMs: 220 })],
      variant: `subtle 1× ${a}`,
    };
  },
  exfiltration: (c) => {
    const { r, p } = c;
    const v = p.volume!;
    const t0 = anchor(c);
    const tpl = templates(c, v.action);
    if (c.nth % 2 === 0) {
      const n = r.int(2, 5);
      const scale = r.between(40, 300);
      const gens = Array.from({ length: n }, (_, k) => {
        const e = copy(r.pick(tpl), t0 + k * r.between(30 * SEC, 5 * MIN));
        e.attributes = { ...e.attributes, ...v.make(r, scale) };
        return { ev: e, episode: c.episode };
      });
      return { gens, variant: `bulk ${n}× ${v.action} at ~${scale.toFixed(0)}× median volume` };
    }
    const n = r.int(25, 60);
    const dur = r.between(3, 6) * HOUR;
    const scale = r.between(3, 8);
    const gens = Array.from({ length: n }, () => {
      const e = copy(r.pick(tpl), t0 + r.next() * dur);
      e.attributes = { ...e.attributes, ...v.make(r, scale) };
      e.resource = `${v.resourcePrefix}${r.token(6)}`;
      return { ev: e, episode: c.episode };
    });
    return { gens, variant: `slow ${n}× ${v.action} over ${(dur / HOUR).toFixed(1)} h at ~${scale.toFixed(1)}× median, fresh resources` };
  },
  error_storm: (c) => {
    const { r, p } = c;
    const t0 = anchor(c);
    const strong = c.nth % 2 === 0;
    const n = strong ? r.int(20, 80) : r.int(8, 14);
    const dur = strong ? r.between(10, 40) * MIN : r.between(1.5, 2) * HOUR;
    const res = p.top.resources.length ? p.top.resources : [undefined];
    const gens = Array.from({ length: n }, () => {
      const a = r.pick(p.common);
      return ev(c, t0 + r.next() * dur, {
        type: a.type,
        action: a.action,
        resource: r.pick(res),
        outcome: strong && r.chance(0.5) ? "error" : "denied",
        latencyMs: Math.round(r.lognormal(300, 0.6)),
      });
    });
    return { gens, variant: `${strong ? "" : "subtle "}${n} error/denied over ${p.common.map((a) => a.action).join(", ")} in ${Math.round(dur / MIN)} min` };
  },
  odd_hours: (c) => {
    const { r, p } = c;
    const dead = deadHours(p, c.normal);
    const h = r.pick(dead);
    const day = local(p.zone, r.between(c.lo, c.hi)).ymd;
    let t = localMidnight(p.zone, day) + (h + r.between(0.05, 0.5)) * HOUR;
    if (t < c.lo) t += DAY;
    const n = c.nth % 2 === 0 ? r.int(2, 3) : 1;
    const gens: Gen[] = [];
    for (let k = 0; k < n; k++) for (const e of p.task(r, t + k * r.between(2, 8) * MIN)) gens.push({ ev: e, episode: c.episode });
    return { gens, variant: `${n} ordinary task(s) at ${String(h).padStart(2, "0")}:xx local (an hour with no normal event)` };
  },
  impossible_sequence: (c) => {
    const { r, p } = c;
    const t0 = anchor(c);
    const a = p.impossible(r, t0);
    const gens = a.events.map((e) => ({ ev: e, episode: c.episode }));
    if (c.nth % 2 === 0) {
      const b = p.impossible(r, t0 + r.between(30, 90) * MIN);
      gens.push(...b.events.map((e) => ({ ev: e, episode: c.episode })));
      return { gens, variant: `twice: ${a.variant}; ${b.variant}` };
    }
    return { gens, variant: a.variant };
  },
  tool_discovery: (c) => {
    const { r, p } = c;
    const t0 = anchor(c);
    const strong = c.nth % 2 === 0;
    const tools = r.shuffle(p.discover).slice(0, strong ? r.int(4, 6) : 3);
    const dur = strong ? r.between(10, 40) * MIN : r.between(2, 3) * HOUR;
    const res = p.top.resources.length ? p.top.resources : [undefined];
    const gens: Gen[] = [];
    for (const [k, tool] of tools.entries()) {
      const calls = strong ? r.int(1, 3) : 1;
      for (let j = 0; j < calls; j++)
        gens.push(
          ev(c, t0 + (k / tools.length) * dur + j * r.between(5, 60) * SEC, {
            type: "tool_call",
            action: tool,
            resource: r.pick(res),
            outcome: r.chance(0.3) ? "denied" : "success",
            latencyMs: Math.round(r.lognormal(250, 0.5)),
          }),
        );
    }
    return { gens, variant: `${strong ? "" : "subtle "}${tools.length} first-time tools (${tools.join(", ")}) in ${Math.round(dur / MIN)} min` };
  },
  drift_amount: (c) => {
    const { r, p } = c;
    const strong = c.nth % 2 === 0;
    const span = Math.min(r.between(5, 9) * DAY, c.hi - c.lo);
    const m = strong ? r.between(6, 8) : r.between(2.5, 4);
    const touched = c.normal.filter(
      (g) => g.ev.action === p.money!.action && g.ev.amount !== undefined && g.ev.ts >= c.lo && g.ev.ts < c.lo + span && g.ev.outcome === "success",
    );
    for (const g of touched) {
      g.ev.amount = round2(g.ev.amount! * (1 + (m - 1) * ((g.ev.ts - c.lo) / span)));
      g.episode = c.episode;
      g.benign = undefined;
    }
    return { gens: [], touched, variant: `${p.money!.action} ×1 → ×${m.toFixed(1)} over ${(span / DAY).toFixed(1)} days (${touched.length} events)` };
  },
  drift_mix: (c) => {
    const { r, p } = c;
    const strong = c.nth % 2 === 0;
    const span = Math.min(r.between(5, 8) * DAY, c.hi - c.lo);
    const target = strong ? r.between(0.2, 0.4) : r.between(0.08, 0.14);
    const gens: Gen[] = [];
    for (const g of c.normal) {
      if (g.ev.ts < c.lo || g.ev.ts >= c.lo + span || g.ev.outcome !== "success") continue;
      if (r.chance(target * ((g.ev.ts - c.lo) / span))) gens.push({ ev: p.rare!.make(r, g.ev.ts + r.between(2 * SEC, 90 * SEC), g), episode: c.episode });
    }
    return {
      gens,
      variant: `${p.rare!.action} inserted after ordinary events, share rising to ${(target * 100).toFixed(0)} % over ${(span / DAY).toFixed(1)} days (${gens.length} events)`,
    };
  },
};
