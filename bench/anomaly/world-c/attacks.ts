import type { AttackType, EventType } from "../types.ts";
import type { Arch } from "./arch.ts";
import { DAY, HOUR, MIN, localClock, type Ev, type Labelled, type Profile } from "./model.ts";
import type { Rand } from "./random.ts";

/** What one episode put into (or changed in) the agent's stream. */
export interface Injected {
  variant: string;
  /** New events (non-drift) or normal events relabelled in place (drift). */
  evs: Ev[];
  inPlace: boolean;
}

export interface AttackCtx {
  r: Rand;
  p: Profile;
  a: Arch;
  /** Earliest and latest start allowed for the episode. */
  lo: number;
  hi: number;
  normal: Labelled[];
  /** The event type each action had in normal work. */
  types: Map<string, EventType>;
  episode: string;
}

export function applicable(a: Arch, t: AttackType): boolean {
  if (t === "amount_spike" || t === "drift_amount") return a.amountAction !== undefined;
  if (t === "impossible_sequence") return a.badOrder !== undefined;
  return true;
}

/** A moment the agent is normally busy (attacks hide in working hours unless the family is about time). */
function workTime(c: AttackCtx, lo = c.lo, hi = c.hi): number {
  for (let i = 0; i < 500; i++) {
    const t = c.r.uniform(lo, hi);
    const k = localClock(c.p, t);
    if (c.a.weight(k.hour, k.dow) >= 0.5) return Math.round(t);
  }
  return Math.round(lo);
}

/** A moment the agent never works: for weekday agents often a weekend afternoon, else the dead of night. */
function oddTime(c: AttackCtx): { t: number; what: string } {
  const weekendDay = c.r.chance(0.5);
  for (let i = 0; i < 2000; i++) {
    const t = c.r.uniform(c.lo, c.hi);
    const k = localClock(c.p, t);
    const w = c.a.weight(k.hour, k.dow);
    const nearBatch = c.a.daily !== undefined && Math.abs(k.hour - c.p.batchHour) <= 1;
    if (w > 0.03 || nearBatch) continue;
    const weekend = k.dow === 0 || k.dow === 6;
    if (weekendDay && !(weekend && k.hour >= 10 && k.hour < 17)) continue;
    if (!weekendDay && !(k.hour < 6 || k.hour >= 23)) continue;
    return { t: Math.round(t), what: weekend && k.hour >= 10 && k.hour < 17 ? `weekend ${k.hour}h` : `night ${k.hour}h${weekend ? " weekend" : ""}` };
  }
  return { t: Math.round(c.lo), what: "fallback" };
}

const typeOf = (c: AttackCtx, action: string): EventType => c.types.get(action) ?? "tool_call";
const ev = (ts: number, type: EventType, action: string, o: Partial<Ev> = {}): Ev => ({
  ts: Math.round(ts),
  type,
  action,
  outcome: "success",
  latencyMs: 250,
  ...o,
});

/** An existing resource of the agent for `action`, or a made-up one. */
function someResource(c: AttackCtx, action: string): string | undefined {
  const seen = c.normal.filter((l) => l.ev.action === action && l.ev.resource !== undefined);
  return seen.length > 0 ? c.r.pick(seen).ev.resource : undefined;
}

function rateBurst(c: AttackCtx): Injected {
  const { r } = c;
  const t0 = workTime(c);
  const strong = r.chance(0.6);
  const n = strong ? r.int(100, 400) : r.int(25, 60);
  const evs: Ev[] = [];
  let t = t0;
  if (r.chance(0.5)) {
    const action = c.a.hot.action;
    const res = someResource(c, action);
    for (let i = 0; i < n; i++, t += r.uniform(0.3, strong ? 2 : 8) * 1000)
      evs.push(ev(t, c.a.hot.type, action, { resource: res, outcome: r.chance(0.6) ? "error" : "success" }));
    return { variant: `retry storm ${action} ×${n}`, evs, inPlace: false };
  }
  const base = r.int(1000, 90000);
  const rd = c.a.read;
  for (let i = 0; i < n; i++, t += r.uniform(0.2, strong ? 2 : 6) * 1000)
    evs.push(ev(t, rd.type, rd.action, { resource: `${rd.prefix}:${base + i}`, attributes: { [rd.key]: Math.round(rd.base) } }));
  return { variant: `enumeration ${rd.action} ×${n}`, evs, inPlace: false };
}

function amountSpike(c: AttackCtx): Injected {
  const { r, p } = c;
  const count = r.chance(0.4) ? 1 : r.int(2, 3);
  const factor = Math.exp(r.uniform(Math.log(20), Math.log(500)));
  let t = workTime(c);
  const evs: Ev[] = [];
  for (let i = 0; i < count; i++, t += r.uniform(1, 20) * MIN) {
    const amount = p.amountMedian * factor * r.uniform(0.8, 1.2);
    evs.push(
      ev(t, "transaction", c.a.amountAction!, {
        resource: `${c.a.amountAction!.split(".")[0]}:z${r.int(1e5, 1e6)}`,
        amount: p.currency === "JPY" ? Math.round(amount) : Math.round(amount * 100) / 100,
        currency: p.currency,
      }),
    );
  }
  return { variant: `${count}× at ${factor.toFixed(0)}× median`, evs, inPlace: false };
}

function dormantTool(c: AttackCtx): Injected {
  const { r } = c;
  const tool = r.pick(c.a.unused);
  const n = r.int(3, 25);
  const t0 = workTime(c);
  const burst = r.chance(0.5);
  const times = burst
    ? Array.from({ length: n }, (_, i) => t0 + i * r.uniform(2, 30) * 1000)
    : Array.from({ length: n }, () => t0 + r.uniform(0, 2 * HOUR)).sort((x, y) => x - y);
  const vol =
    tool.type === "data_access"
      ? { attributes: { records: r.int(50, 500) } }
      : tool.type === "transaction"
        ? { amount: Math.round(c.p.amountMedian * r.uniform(0.5, 3)), currency: c.p.currency }
        : {};
  return { variant: `${tool.action} ×${n} ${burst ? "burst" : "over 2 h"}`, evs: times.map((t) => ev(t, tool.type, tool.action, vol)), inPlace: false };
}

function outOfScope(c: AttackCtx): Injected {
  const { r } = c;
  const n = r.int(2, 15);
  const t0 = workTime(c);
  const span = r.uniform(1, 30) * MIN;
  const acts = r.shuffle(c.a.outOfScope).slice(0, r.int(1, 3));
  const times = Array.from({ length: n }, () => t0 + r.uniform(0, span)).sort((x, y) => x - y);
  return {
    variant: `${acts.join(",")} ×${n}`,
    evs: times.map((t) => ev(t, "tool_call", r.pick(acts), { outcome: r.chance(0.3) ? "denied" : "success" })),
    inPlace: false,
  };
}

function exfiltration(c: AttackCtx): Injected {
  const { r } = c;
  const rd = c.a.read;
  const t0 = workTime(c);
  if (r.chance(0.5)) {
    const n = r.int(2, 6);
    const f = r.uniform(30, 300);
    const evs = Array.from({ length: n }, (_, i) =>
      ev(t0 + i * r.uniform(10, 300) * 1000, rd.type, rd.action, {
        resource: `${rd.prefix}:x${r.int(1e5, 1e6)}`,
        attributes: { [rd.key]: Math.round(rd.base * f * r.uniform(0.7, 1.3)) },
      }),
    );
    return { variant: `bulk ${n} reads at ${f.toFixed(0)}× ${rd.key}`, evs, inPlace: false };
  }
  const n = r.int(30, 120);
  const hours = r.uniform(2, 6);
  const f = r.uniform(3, 10);
  const times = Array.from({ length: n }, () => t0 + r.uniform(0, hours * HOUR)).sort((x, y) => x - y);
  const evs = times.map((t) =>
    ev(t, rd.type, rd.action, { resource: `${rd.prefix}:x${r.int(1e5, 1e7)}`, attributes: { [rd.key]: Math.round(rd.base * f * r.uniform(0.7, 1.3)) } }),
  );
  return { variant: `slow ${n} fresh reads over ${hours.toFixed(1)} h at ${f.toFixed(1)}× ${rd.key}`, evs, inPlace: false };
}

function errorStorm(c: AttackCtx): Injected {
  const { r } = c;
  const n = r.int(10, 80);
  const t0 = workTime(c);
  const span = r.uniform(2, 30) * MIN;
  const times = Array.from({ length: n }, () => t0 + r.uniform(0, span)).sort((x, y) => x - y);
  const denied = r.uniform(0.2, 0.8);
  const evs = times.map((t) => {
    const a = r.pick(c.a.common);
    return ev(t, typeOf(c, a), a, { resource: someResource(c, a), outcome: r.chance(denied) ? "denied" : "error" });
  });
  return { variant: `${n} failures over ${(span / MIN).toFixed(0)} min`, evs, inPlace: false };
}

function oddHours(c: AttackCtx): Injected {
  const { r } = c;
  const { t, what } = oddTime(c);
  const tasks = c.a.name === "research-assistant" ? r.int(1, 2) : r.int(3, 12);
  const evs: Ev[] = [];
  let s = t;
  for (let i = 0; i < tasks; i++) {
    // Multi-day templates (POs) keep only the steps done in the odd session itself.
    evs.push(...c.a.task(r, c.p, s).filter((e) => e.ts - s < 2 * HOUR));
    s += r.uniform(1, 10) * MIN;
  }
  return { variant: `${tasks} tasks at ${what}`, evs, inPlace: false };
}

function impossibleSequence(c: AttackCtx): Injected {
  const { r } = c;
  let t = workTime(c);
  const evs: Ev[] = [];
  let variant = "";
  for (let k = r.int(1, 4), i = 0; i < k; i++, t += r.uniform(5, 60) * MIN) {
    const b = c.a.badOrder!(r, c.p, t);
    variant = `${k}× ${b.variant}`;
    evs.push(...b.evs);
  }
  return { variant, evs, inPlace: false };
}

function toolDiscovery(c: AttackCtx): Injected {
  const { r } = c;
  const used = new Set(c.types.keys());
  const cands = r.shuffle(c.a.discover.filter((d) => !used.has(d)));
  const n = Math.min(cands.length, r.int(5, 12));
  let t = workTime(c);
  const evs: Ev[] = [];
  for (let i = 0; i < n; i++, t += r.uniform(10, 180) * 1000) evs.push(ev(t, "tool_call", cands[i]!));
  return { variant: `${n} first-time tools`, evs, inPlace: false };
}

function driftAmount(c: AttackCtx): Injected {
  const { r } = c;
  const dur = r.uniform(5, 8) * DAY;
  const start = r.uniform(c.lo, Math.max(c.lo, c.hi - dur));
  const f = r.uniform(3, 10);
  const evs: Ev[] = [];
  for (const l of c.normal) {
    if (l.ev.action !== c.a.amountAction || l.ev.amount === undefined || l.ev.ts < start || l.ev.ts > start + dur) continue;
    const k = 1 + (f - 1) * ((l.ev.ts - start) / dur);
    l.ev.amount = c.p.currency === "JPY" ? Math.round(l.ev.amount * k) : Math.round(l.ev.amount * k * 100) / 100;
    l.episode = c.episode;
    l.benign = undefined;
    evs.push(l.ev);
  }
  return { variant: `×${f.toFixed(1)} over ${(dur / DAY).toFixed(1)} d`, evs, inPlace: true };
}

function driftMix(c: AttackCtx): Injected {
  const { r } = c;
  const dur = r.uniform(5, 8) * DAY;
  const start = r.uniform(c.lo, Math.max(c.lo, c.hi - dur));
  const target = r.uniform(0.2, 0.4);
  const rare = c.a.rare;
  const evs: Ev[] = [];
  for (const l of c.normal) {
    if (l.ev.ts < start || l.ev.ts > start + dur) continue;
    // Share of the rare action climbs linearly from ~1 % to the target; q = s/(1−s) extra per normal event.
    const s = 0.01 + (target - 0.01) * ((l.ev.ts - start) / dur);
    if (r.chance(s / (1 - s))) evs.push(ev(l.ev.ts + r.uniform(1, 30) * 1000, rare.type, rare.action, { resource: l.ev.resource }));
  }
  return { variant: `${rare.action} to ${(target * 100).toFixed(0)} % over ${(dur / DAY).toFixed(1)} d`, evs, inPlace: false };
}

export const ATTACKS: Record<AttackType, (c: AttackCtx) => Injected> = {
  rate_burst: rateBurst,
  amount_spike: amountSpike,
  tool_discovery: toolDiscovery,
  out_of_scope: outOfScope,
  exfiltration,
  error_storm: errorStorm,
  odd_hours: oddHours,
  impossible_sequence: impossibleSequence,
  dormant_tool: dormantTool,
  drift_amount: driftAmount,
  drift_mix: driftMix,
};
