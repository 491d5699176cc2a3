import { amountSpike, errorStorm, exfiltration, outOfScope, rateBurst, toolDiscovery } from "./attacks-fast.ts";
import { driftAmount, driftMix, impossibleSequence, oddHours } from "./attacks-slow.ts";
import { deadLocalHours, type AttackCtx, type Injection } from "./attack-ctx.ts";
import type { AgentModel } from "./model.ts";
import { HOUR, localMidnight, localTime } from "./rhythm.ts";
import type { Rng } from "../common/rng.ts";
import { DRIFT_TYPES, type AttackType, type Draft } from "./types.ts";

/** World A's attacks; `dormant_tool` is world B's family (world A's discovery attack is `tool_discovery`). */
const INJECT: Record<Exclude<AttackType, "dormant_tool">, (ctx: AttackCtx) => Injection> = {
  rate_burst: rateBurst, amount_spike: amountSpike, tool_discovery: toolDiscovery, out_of_scope: outOfScope,
  exfiltration, error_storm: errorStorm, odd_hours: oddHours, impossible_sequence: impossibleSequence,
  drift_amount: driftAmount, drift_mix: driftMix,
};

/** Whether an attack makes sense for this agent (no amount spikes on an agent that moves no money…). */
export function applicable(type: AttackType, m: AgentModel, drafts: Draft[]): boolean {
  switch (type) {
    case "amount_spike":
    case "drift_amount": return m.hooks.amountActions.length > 0 && drafts.some((d) => d.amount !== undefined);
    case "out_of_scope": return m.hooks.outOfScope.length > 0;
    case "odd_hours": return deadLocalHours(drafts, m.rhythm.tzMin).length >= 4;
    case "drift_mix": return m.hooks.sensitive !== undefined && drafts.some((d) => d.action === m.hooks.sensitive);
    case "dormant_tool": return false;
    default: return true;
  }
}

export interface Placed {
  type: AttackType;
  injection: Injection;
  start: number;
  end: number;
}

/**
 * Places the agent's episodes: drifts in the middle of the history (they need days), the others in
 * the last ~45 % so the scorer has a baseline, never overlapping (2 h apart) unless chained as a
 * campaign (the next step minutes after the previous one). Each injection has its own stream.
 */
export function placeEpisodes(m: AgentModel, rng: Rng, drafts: Draft[], start: number, end: number, types: AttackType[], pace: () => "fast" | "slow", nextSession: () => string): Placed[] {
  const placed: Placed[] = [];
  const span = end - start;
  const busy: [number, number][] = [];
  const free = (a: number, b: number) => busy.every(([x, y]) => b + 2 * HOUR < x || a > y + 2 * HOUR);
  const dead = deadLocalHours(drafts, m.rhythm.tzMin);
  const ordered = [...types].sort((a, b) => Number(DRIFT_TYPES.has(b)) - Number(DRIFT_TYPES.has(a)));
  for (const type of ordered) {
    const r = rng.fork(`${type}-${placed.length}`);
    const drift = DRIFT_TYPES.has(type);
    let anchor: number | undefined;
    const prev = placed[placed.length - 1];
    for (let attempt = 0; attempt < 40 && anchor === undefined; attempt++) {
      let t: number;
      if (!drift && prev && !DRIFT_TYPES.has(prev.type) && type !== "odd_hours" && attempt === 0 && r.chance(0.3)) {
        t = prev.end + r.uniform(5, 60) * 60_000;
        if (t < end - 3 * HOUR) anchor = t;
        continue;
      }
      if (type === "odd_hours") {
        const day = localTime(start + r.uniform(0.55, 0.95) * span, m.rhythm.tzMin).day;
        t = localMidnight(day, m.rhythm.tzMin) + r.pick(dead) * HOUR + r.int(0, 20) * 60_000;
      } else {
        const lo = start + (drift ? 0.3 : 0.55) * span;
        const hi = drift ? start + 0.55 * span : end - 4 * HOUR;
        // Attacks start while the agent is working (a random normal event), except odd-hours.
        const cands = drafts.filter((d) => d.ts >= lo && d.ts < hi && (type !== "drift_amount" || d.amount !== undefined));
        if (cands.length === 0) break;
        t = r.pick(cands).ts + r.int(1, 30) * 1000;
      }
      const reserve = drift ? 72 * HOUR : 4 * HOUR;
      if (t < end - 3 * HOUR && free(t, t + reserve)) anchor = t;
    }
    if (anchor === undefined) continue;
    const injection = INJECT[type as Exclude<AttackType, "dormant_tool">]({ m, rng: r, drafts, start: anchor, end, pace: pace(), nextSession });
    const evs = [...injection.add, ...injection.modified].filter((d) => d.ts < end);
    injection.add = injection.add.filter((d) => d.ts < end);
    // Drift edits events in place: once it has touched any, it stays (and is labelled).
    if (evs.length < (drift && injection.modified.length === 0 ? 5 : 1)) continue;
    const s = Math.min(...evs.map((d) => d.ts));
    const e = Math.max(...evs.map((d) => d.ts));
    busy.push([s, e]);
    placed.push({ type, injection, start: s, end: e });
  }
  return placed;
}
