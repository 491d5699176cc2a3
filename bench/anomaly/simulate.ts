import type { AgentModel, Planned, Step } from "./model.ts";
import { HOUR, localTime } from "./rhythm.ts";
import type { Rng } from "../common/rng.ts";
import type { BenignType, BenignWindow, Draft, Outcome } from "./types.ts";

/** A benign surprise as the simulator applies it. */
export interface BenignPlan extends BenignWindow {
  /** Volume factor (busy day, holiday) or latency factor (deploy). */
  factor: number;
  tool?: string;
}

const WINDOWED: ReadonlySet<BenignType> = new Set(["busy_day", "holiday_lull", "deploy_latency"]);

/**
 * Normal behaviour, hour by hour in time order (so stateful kinds see their own history in order):
 * Poisson session starts shaped by the rhythm, scheduled runs, sessions serialised onto the agent's
 * lanes, background errors with retries, short transient error clusters, and the benign surprises.
 */
export function simulateNormal(m: AgentModel, rng: Rng, start: number, end: number, plans: BenignPlan[]): Draft[] {
  const drafts: Draft[] = [];
  const lanes = new Array<number>(m.lanes).fill(start);
  const pending = plans.filter((p) => !WINDOWED.has(p.type)).sort((a, b) => a.start - b.start);
  const windows = plans.filter((p) => WINDOWED.has(p.type));
  const newTools = new Set<string>();
  const newPrefixes: string[] = [];
  const clusterP = rng.uniform(0.001, 0.004);
  let clusterLeft = 0;
  let sid = 0;

  const inWindow = (type: BenignType, t: number) => windows.find((w) => w.type === type && t >= w.start && t < w.end);
  const noise = (t: number): Outcome => {
    if (clusterLeft > 0) {
      clusterLeft--;
      return "error";
    }
    // A transient upstream failure: this call and the next one or two fail.
    if (rng.chance(clusterP)) {
      clusterLeft = rng.int(1, 2);
      return "error";
    }
    const p = m.errorRate * (inWindow("deploy_latency", t) ? 1.8 : 1);
    if (rng.chance(p)) return rng.chance(0.12) ? "denied" : "error";
    return "success";
  };
  const push = (s: Step, t: number, outcome: Outcome, session: string): number => {
    const slow = inWindow("deploy_latency", t)?.factor ?? 1;
    // A failing call is either fast (4xx/5xx) or a timeout.
    const lat = outcome === "success" ? s.latencyMs * slow : rng.chance(0.2) ? rng.uniform(10_000, 30_000) : s.latencyMs * 0.3;
    drafts.push({
      ts: Math.round(t), type: s.type, action: s.action, resource: s.resource, amount: s.amount, currency: s.currency,
      outcome, latencyMs: Math.round(lat), session,
    });
    return lat;
  };
  const place = (p: Planned) => {
    let li = 0;
    for (let i = 1; i < lanes.length; i++) if ((lanes[i] ?? 0) < (lanes[li] ?? 0)) li = i;
    let t = Math.max(p.t0, lanes[li] ?? 0);
    // An overloaded agent sheds work rather than queueing it for hours.
    if (t - p.t0 > HOUR) return;
    const session = `s${++sid}`;
    for (const s of p.steps) {
      t += s.gapMs;
      const outcome = s.outcome ?? noise(t);
      t += push(s, t, outcome, session);
      if (outcome === "error" && s.outcome === undefined && rng.chance(0.5)) {
        t += rng.uniform(500, 5000);
        // The retry is part of the same cluster: a transient failure is 2–3 failed calls in all.
        const again: Outcome = clusterLeft > 0 ? (clusterLeft--, "error") : rng.chance(m.errorRate * 3) ? "error" : "success";
        t += push(s, t, again, session);
      }
    }
    lanes[li] = t;
  };

  for (let slot = start; slot < end; slot += HOUR) {
    while (pending[0] && pending[0].start <= slot) {
      const p = pending.shift()!;
      if (p.type === "new_tool" && p.tool) {
        m.adoptTool(p.tool, rng);
        newTools.add(p.tool);
      } else {
        const prefixes = m.growResources(rng);
        newPrefixes.push(...prefixes);
        p.detail += ` ${prefixes.slice(0, 2).join(", ")}`;
      }
    }
    const factor = windows.filter((w) => w.type !== "deploy_latency" && slot >= w.start && slot < w.end).reduce((f, w) => f * w.factor, 1);
    const lt = localTime(slot, m.rhythm.tzMin);
    const lambda = m.sessionRate * (m.rhythm.hourly[lt.hour] ?? 0) * (m.rhythm.weekday[lt.weekday] ?? 0) * factor;
    const starts = Array.from({ length: rng.poisson(lambda) }, () => slot + rng.next() * HOUR).sort((a, b) => a - b);
    const planned: Planned[] = starts.map((t0) => ({ t0, steps: m.session(rng) }));
    planned.push(...(m.scheduled?.(slot, lt, rng, factor) ?? []));
    planned.sort((a, b) => a.t0 - b.t0);
    for (const p of planned) place(p);
  }

  const out = drafts.filter((d) => d.ts < end).sort((a, b) => a.ts - b.ts);
  for (const d of out) {
    if (newTools.has(d.action)) d.benign = "new_tool";
    else if (d.resource && newPrefixes.some((p) => d.resource!.startsWith(p))) d.benign = "new_resource";
    else d.benign = windows.find((w) => d.ts >= w.start && d.ts < w.end)?.type;
  }
  return out;
}
