import type { SimEvent } from "../sim-event.ts";
import type { AttackType } from "../types.ts";
import { type Arch, VOLUME_ATTRS } from "./arch.ts";
import { DAY, type Gen, HOUR, MIN, type Profile } from "./model.ts";
import type { Rand } from "./random.ts";

export interface AttackCtx {
  r: Rand;
  p: Profile;
  a: Arch;
  /** Window the episode starts in. */
  lo: number;
  hi: number;
  normal: Gen[];
  episode: string;
  /** How many episodes of this family came before: intensities alternate so every variant occurs. */
  nth: number;
}

export interface AttackOut {
  evs: Gen[];
  variant: string;
  /** The events are normal ones relabelled in place (drift of amounts), not new ones. */
  inPlace?: boolean;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 1;
};

/** A time the agent is usually active at, inside [lo, hi]: attacks hide in working hours. */
function anchor(c: AttackCtx): number {
  const inside = c.normal.filter((g) => g.ev.ts >= c.lo && g.ev.ts <= c.hi);
  return inside.length ? c.r.pick(inside).ev.ts + c.r.int(1, 90) * 1000 : c.lo;
}

const of = (c: AttackCtx, action: string): Gen[] => c.normal.filter((g) => g.ev.action === action);

/** The agent's actions by how often it calls them. */
function ranked(c: AttackCtx): string[] {
  const n = new Map<string, number>();
  for (const g of c.normal) n.set(g.ev.action, (n.get(g.ev.action) ?? 0) + 1);
  return [...n].sort((x, y) => y[1] - x[1]).map(([k]) => k);
}

const mark = (c: AttackCtx, evs: SimEvent[]): Gen[] => evs.map((ev) => ({ ev, episode: c.episode }));
const like = (g: Gen, ts: number, extra: Partial<SimEvent> = {}): SimEvent => ({ ...g.ev, ts, latencyMs: g.ev.latencyMs, outcome: "success", ...extra });

const spread = (r: Rand, t0: number, n: number, dur: number): number[] =>
  Array.from({ length: n }, (_, i) => Math.round(t0 + (dur * (i + r.next())) / n)).sort((a, b) => a - b);

export const ATTACKS: Record<AttackType, (c: AttackCtx) => AttackOut> = {
  rate_burst(c) {
    const { r } = c;
    const action = r.pick(ranked(c).slice(0, 3));
    const tpl = of(c, action);
    const t0 = anchor(c);
    if (c.nth % 2 === 0) {
      const n = r.int(150, 1500);
      const dur = r.uniform(5, 40) * MIN;
      const enumerate = r.chance(0.5);
      const evs = spread(r, t0, n, dur).map((ts, i) =>
        like(r.pick(tpl), ts, enumerate ? { resource: `${(tpl[0]!.ev.resource ?? "item").split(":")[0]}:enum${i}` } : {}),
      );
      return { evs: mark(c, evs), variant: `fast ${n}× ${action} in ${(dur / MIN).toFixed(0)} min${enumerate ? ", enumerating resources" : ""}` };
    }
    const hours = new Set(tpl.map((g) => Math.floor(g.ev.ts / HOUR))).size || 1;
    const n = Math.min(200, Math.max(30, Math.round((3 * tpl.length) / hours)));
    const evs = spread(r, t0, n, HOUR).map((ts) => like(r.pick(tpl), ts));
    return { evs: mark(c, evs), variant: `subtle ${n}× ${action} over 60 min (~3× its usual hourly rate)` };
  },
  amount_spike(c) {
    const { r } = c;
    const tpl = of(c, c.a.money!);
    const med = median(tpl.map((g) => g.ev.amount ?? 0));
    const subtle = c.nth % 3 === 1;
    const k = subtle ? r.uniform(6, 10) : r.uniform(20, 500);
    const n = r.int(1, 3);
    const t0 = anchor(c);
    const evs = Array.from({ length: n }, (_, i) =>
      like(r.pick(tpl), t0 + i * r.int(20, 600) * 1000, { amount: Math.round(med * k * r.uniform(0.9, 1.1) * 100) / 100 }),
    );
    return { evs: mark(c, evs), variant: `${subtle ? "subtle" : "spike"} ${n}× ${c.a.money} at ${k.toFixed(0)}× median` };
  },
  dormant_tool(c) {
    const { r } = c;
    const tool = r.pick(c.p.dormant);
    const n = r.int(3, 25);
    const burst = c.nth % 2 === 0;
    const t0 = anchor(c);
    const res = c.normal.filter((g) => g.ev.resource !== undefined);
    const evs = spread(r, t0, n, burst ? r.uniform(1, 5) * MIN : 2 * HOUR).map(
      (ts): SimEvent => ({
        ts,
        type: "api_request",
        action: tool,
        resource: res.length ? r.pick(res).ev.resource : undefined,
        outcome: "success",
        latencyMs: r.int(50, 600),
      }),
    );
    return { evs: mark(c, evs), variant: `${n}× ${tool} ${burst ? "in a burst" : "over 2 h"}` };
  },
  out_of_scope(c) {
    const { r } = c;
    const acts = r.shuffle(c.p.outOfScope).slice(0, r.int(1, 3));
    const n = r.int(3, 20);
    const evs = spread(r, anchor(c), n, r.uniform(2, 30) * MIN).map(
      (ts): SimEvent => ({ ts, type: "api_request", action: r.pick(acts), outcome: "success", latencyMs: r.int(50, 900) }),
    );
    return { evs: mark(c, evs), variant: `${n}× ${acts.join("/")}` };
  },
  exfiltration(c) {
    const { r } = c;
    const tpl = of(c, c.a.read);
    const base: Gen = tpl.length
      ? r.pick(tpl)
      : { ev: { ts: 0, type: "data_access", action: c.a.read, resource: "export", outcome: "success", attributes: { records: 20 } } };
    const med = (k: string) => median(tpl.map((g) => Number(g.ev.attributes?.[k] ?? 0)).filter((x) => x > 0)) || 20;
    const t0 = anchor(c);
    if (c.nth % 2 === 0) {
      const n = r.int(2, 8);
      const k = r.uniform(30, 300);
      const evs = spread(r, t0, n, r.uniform(10, 60) * MIN).map((ts) => like(r.pick(tpl.length ? tpl : [base]), ts));
      for (const e of evs) {
        e.attributes = { ...(e.attributes ?? base.ev.attributes) };
        for (const key of VOLUME_ATTRS) if (key in e.attributes) e.attributes[key] = Math.round(med(key) * k * r.lognormal(1, 0.3));
      }
      return { evs: mark(c, evs), variant: `bulk ${n}× ${c.a.read} at ${k.toFixed(0)}× median volume` };
    }
    const n = r.int(20, 80);
    const k = r.uniform(3, 10);
    const dur = r.uniform(2, 6) * HOUR;
    const evs = spread(r, t0, n, dur).map((ts, i) => {
      const e = like(r.pick(tpl.length ? tpl : [base]), ts, { resource: `${base.ev.resource ?? "export"}_p${i}` });
      e.attributes = { ...(e.attributes ?? base.ev.attributes) };
      for (const key of VOLUME_ATTRS) if (key in e.attributes) e.attributes[key] = Math.round(med(key) * k * r.lognormal(1, 0.3));
      return e;
    });
    return { evs: mark(c, evs), variant: `slow ${n}× ${c.a.read} of fresh resources over ${(dur / HOUR).toFixed(1)} h at ${k.toFixed(1)}× median volume` };
  },
  error_storm(c) {
    const { r } = c;
    const acts = ranked(c).slice(0, 4);
    const n = r.int(10, 80);
    const outcome = c.nth % 2 === 0 ? "denied" : "error";
    const evs = spread(r, anchor(c), n, r.uniform(3, 30) * MIN).map((ts) => like(r.pick(of(c, r.pick(acts))), ts, { outcome }));
    return { evs: mark(c, evs), variant: `${n}× ${outcome} over ${acts.join("/")}` };
  },
  odd_hours(c) {
    const { r, p, a } = c;
    // Hours of the week (UTC) in which the agent never did anything: its odd hours.
    const seen = new Array<number>(168).fill(0);
    for (const g of c.normal) seen[(Math.floor(g.ev.ts / HOUR) + 72) % 168]!++;
    const cands: number[] = [];
    for (let t = Math.ceil(c.lo / HOUR) * HOUR; t < c.hi; t += HOUR) if (seen[(t / HOUR + 72) % 168] === 0) cands.push(t);
    const t0 = cands.length ? r.pick(cands) : c.lo;
    const n = r.int(1, 4);
    const evs: SimEvent[] = [];
    for (let k = 0; k < n; k++) evs.push(...a.task(r, p, t0 + k * r.int(2, 12) * MIN));
    return {
      evs: mark(c, evs),
      variant: `${n} ordinary task(s) at ${new Date(t0).toISOString().slice(0, 13)}Z${cands.length ? ", an hour of the week it never works" : " (no empty hour: quietest)"}`,
    };
  },
  impossible_sequence(c) {
    const { r } = c;
    const n = c.nth % 2 === 0 ? 1 : r.int(2, 4);
    const t0 = anchor(c);
    const evs: SimEvent[] = [];
    let variant = "";
    for (let k = 0; k < n; k++) {
      const s = c.a.badSequence!(r, c.p, t0 + k * r.int(3, 20) * MIN);
      evs.push(...s.evs);
      variant = s.variant;
    }
    return { evs: mark(c, evs), variant: `${n}× ${variant}` };
  },
  tool_discovery(c) {
    const { r } = c;
    const tools = r.shuffle(c.p.discover).slice(0, r.int(4, 8));
    const t0 = anchor(c);
    const dur = r.uniform(10, 40) * MIN;
    const res = c.normal.filter((g) => g.ev.resource !== undefined);
    const evs: SimEvent[] = [];
    for (const tool of tools)
      for (let k = r.int(1, 3); k > 0; k--)
        evs.push({
          ts: Math.round(t0 + r.next() * dur),
          type: r.pick(["tool_call", "api_request"] as const),
          action: tool,
          resource: res.length ? r.pick(res).ev.resource : undefined,
          outcome: "success",
          latencyMs: r.int(40, 700),
        });
    return { evs: mark(c, evs), variant: `${tools.length} first-time in-scope tools in ${(dur / MIN).toFixed(0)} min` };
  },
  drift_amount(c) {
    const { r } = c;
    const days = r.int(5, 8);
    const f = r.uniform(3, 10);
    const from = c.lo;
    const to = Math.min(from + days * DAY, c.p.end - HOUR);
    const hit = c.normal.filter((g) => g.ev.action === c.a.money && g.ev.ts >= from && g.ev.ts < to && g.ev.amount !== undefined);
    for (const g of hit) {
      const frac = (g.ev.ts - from) / (to - from);
      g.ev = { ...g.ev, amount: Math.round(g.ev.amount! * (1 + (f - 1) * frac) * 100) / 100 };
      g.episode = c.episode;
      g.benign = undefined;
    }
    return { evs: hit, variant: `${c.a.money} amounts creeping to ${f.toFixed(1)}× over ${days} days`, inPlace: true };
  },
  drift_mix(c) {
    const { r, p } = c;
    const days = r.int(5, 8);
    const target = r.uniform(0.2, 0.4);
    const from = c.lo;
    const to = Math.min(from + days * DAY, p.end - HOUR);
    const rare = of(c, p.rare);
    const evs: SimEvent[] = [];
    for (const g of c.normal) {
      if (g.ev.ts < from || g.ev.ts >= to) continue;
      const s = 0.01 + (target - 0.01) * ((g.ev.ts - from) / (to - from));
      if (!r.chance(s / (1 - s))) continue;
      const ts = g.ev.ts + r.int(2, 40) * 1000;
      evs.push(
        rare.length
          ? like(r.pick(rare), ts, { resource: g.ev.resource })
          : { ts, type: "tool_call", action: p.rare, resource: g.ev.resource, outcome: "success", latencyMs: r.int(50, 500) },
      );
    }
    return { evs: mark(c, evs), variant: `${p.rare} creeping to ${(target * 100).toFixed(0)} % of calls over ${days} days` };
  },
};

/** Whether an attack family fits an agent. */
export function applicable(a: Arch, p: Profile, t: AttackType): boolean {
  if (t === "amount_spike" || t === "drift_amount") return a.money !== undefined;
  if (t === "impossible_sequence") return a.badSequence !== undefined;
  if (t === "odd_hours") return !p.allHours;
  return true;
}
