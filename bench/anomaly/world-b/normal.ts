import type { BenignType, BenignWindow } from "../types.ts";
import { baseIntensity, DAY, HOUR, localTime, monthEnd, Pool, stepEvent, type AgentParams, type Ev, type TaskCtx } from "./agent.ts";
import type { Template } from "./archetypes.ts";
import type { Rand } from "./random.ts";

export interface NormalEv {
  ev: Ev;
  benign?: BenignType;
}

/** The benign windows of an agent, from its parameters (labels only; the behaviour is in simulateNormal). */
export function benignWindows(p: AgentParams): BenignWindow[] {
  const w: BenignWindow[] = [];
  for (const d of p.holidays) w.push({ type: "holiday_lull", start: d, end: d + DAY, detail: "day off" });
  for (const [d, m] of p.busy) w.push({ type: "busy_day", start: d, end: d + DAY, detail: `${m.toFixed(1)}× work` });
  for (const o of p.outages) w.push({ type: "outage_catchup", start: o.end, end: o.end + 2 * HOUR, detail: "backlog after an outage" });
  if (p.adoptFrom < Infinity) w.push({ type: "new_tool", start: p.adoptFrom, end: p.adoptFrom + 4 * DAY, detail: p.arch.adopt.action });
  if (p.shiftFrom < Infinity) w.push({ type: "shift_change", start: p.shiftFrom, end: p.shiftFrom + 4 * DAY, detail: "shifts rotated" });
  if (p.newFamilyFrom < Infinity) w.push({ type: "new_resource", start: p.newFamilyFrom, end: p.newFamilyFrom + 3 * DAY, detail: "new resource family" });
  return w;
}

function tag(windows: BenignWindow[], t: number): BenignType | undefined {
  return windows.find((w) => t >= w.start && t < w.end)?.type;
}

/** One task of a template from `t`: steps separated by heavy-tailed gaps, optional and repeated steps. */
export function emitTask(tpl: Template, c: TaskCtx, t: number, opts: { speed?: number; amountFactor?: number; volumeFactor?: number; adopt?: boolean } = {}): Ev[] {
  const out: Ev[] = [];
  const speed = opts.speed ?? 1;
  for (const step of tpl.steps) {
    if (step.p !== undefined && !c.r.chance(step.p)) continue;
    const reps = step.repeat ? c.r.int(...step.repeat) : 1;
    for (let i = 0; i < reps; i++) {
      out.push(stepEvent(step, c, t, opts.amountFactor, opts.volumeFactor));
      t += c.r.heavyGap(c.p.arch.gapMs) / speed;
    }
  }
  if (opts.adopt) out.splice(c.r.int(1, out.length), 0, stepEvent(c.p.arch.adopt, c, out[0]!.ts + 500));
  return out;
}

export function pickTemplate(p: AgentParams, r: Rand): Template {
  return r.weighted(p.arch.templates, (t) => t.weight);
}

/**
 * Normal work: for each hour, Poisson(peak × hour-of-week intensity × day factor) tasks start at
 * uniform times inside it. Holidays nearly stop work, busy days and month-end multiply it,
 * an outage queues tasks and releases them at 3× speed when it ends.
 */
export function simulateNormal(p: AgentParams, r: Rand): { events: NormalEv[]; benign: BenignWindow[] } {
  const benign = benignWindows(p);
  const customers = new Pool(p.arch.name.slice(0, 2));
  const events: NormalEv[] = [];
  let backlog = 0;
  let task = 0;
  for (let h = p.start; h < p.end; h += HOUR) {
    const { dayStart } = localTime(p, h);
    let lam = p.peak * baseIntensity(p, h);
    if (p.holidays.has(dayStart)) lam *= 0.03;
    lam *= p.busy.get(dayStart) ?? 1;
    if ((p.arch.name === "reconciler" || p.arch.name === "reporting") && monthEnd(p, h)) lam *= 2.2;
    const outage = p.outages.find((o) => h >= o.start && h < o.end);
    const n = r.poisson(lam);
    if (outage) {
      backlog += n;
      continue;
    }
    const released = p.outages.some((o) => h >= o.end && h < o.end + HOUR) ? backlog : 0;
    backlog -= released;
    for (let i = 0; i < n + released; i++) {
      const t0 = i < n ? h + r.next() * HOUR : h + (i - n) * (HOUR / Math.max(1, released)) * 0.9;
      const c: TaskCtx = { r, p, customers, caseId: `${p.arch.name.slice(0, 3)}-${(task++).toString(36)}`, family: t0 >= p.newFamilyFrom && r.chance(0.3) ? "region-2" : undefined };
      const ramp = Math.min(1, (t0 - p.adoptFrom) / (5 * DAY));
      const adopt = t0 >= p.adoptFrom && r.chance(0.05 + 0.25 * ramp);
      const big = r.chance(p.bigTicket * 4);
      for (const ev of emitTask(pickTemplate(p, r), c, t0, { speed: i < n ? 1 : 3, amountFactor: big ? r.uniform(10, 40) : 1, adopt })) {
        if (ev.ts >= p.end) continue;
        events.push({ ev, benign: big && ev.amount !== undefined ? "big_ticket" : tag(benign, ev.ts) });
      }
    }
  }
  return { events, benign };
}
