import type { AgentModel } from "./model.ts";
import { DAY, HOUR, localMidnight, localTime } from "./rhythm.ts";
import type { Rng } from "../common/rng.ts";
import type { BenignPlan } from "./simulate.ts";

/**
 * Benign surprises — things that happen to healthy agents and must not get them revoked: a busy
 * day, a holiday lull and the return from it, a new in-scope tool adopted for good, a new customer,
 * instrument, vendor or dataset, a deploy that slows everything down for a while.
 */
export function planBenign(m: AgentModel, rng: Rng, start: number, end: number, atLeast: number): BenignPlan[] {
  const tz = m.rhythm.tzMin;
  const firstDay = localTime(start, tz).day + 3;
  const lastDay = localTime(end, tz).day - 1;
  const workHour = () => {
    const hours = m.rhythm.hourly.map((w, h) => (w > 0 ? h : -1)).filter((h) => h >= 0);
    return hours.length ? rng.pick(hours.slice(0, Math.max(1, hours.length - 3))) : rng.int(8, 14);
  };
  const workDay = () => {
    for (let i = 0; i < 20; i++) {
      const d = rng.int(firstDay, lastDay);
      const wd = (d + 4) % 7;
      if ((m.rhythm.weekday[wd] ?? 0) >= 0.5) return d;
    }
    return rng.int(firstDay, lastDay);
  };
  const at = (day: number, hour: number) => localMidnight(day, tz) + hour * HOUR + rng.int(0, 59) * 60_000;
  const plans: BenignPlan[] = [];
  const candidates = rng.shuffle(["busy_day", "holiday_lull", "new_tool", "new_resource", "deploy_latency"] as const);
  for (const [i, type] of candidates.entries()) {
    if (i >= atLeast && !rng.chance(0.35)) continue;
    if (lastDay <= firstDay) break;
    switch (type) {
      case "busy_day": {
        const s = at(workDay(), workHour());
        const f = rng.uniform(2, 3);
        plans.push({ type, start: s, end: s + rng.int(3, 8) * HOUR, factor: f, detail: `×${f.toFixed(1)} volume` });
        break;
      }
      case "holiday_lull": {
        const d = workDay();
        if (plans.some((p) => p.type === "busy_day" && localTime(p.start, tz).day === d)) break;
        const f = rng.uniform(0.05, 0.2);
        plans.push({ type, start: localMidnight(d, tz), end: localMidnight(d, tz) + DAY, factor: f, detail: `×${f.toFixed(2)} for a day` });
        break;
      }
      case "new_tool": {
        const tool = m.hooks.unusedInScope[0] === undefined ? undefined : rng.pick(m.hooks.unusedInScope);
        if (!tool) break;
        // Once adopted it is part of normal behaviour: attacks must not "discover" it later.
        m.hooks.unusedInScope = m.hooks.unusedInScope.filter((t) => t !== tool);
        plans.push({ type, start: at(workDay(), workHour()), end: end, factor: 1, tool, detail: tool });
        break;
      }
      case "new_resource":
        plans.push({ type, start: at(workDay(), workHour()), end: end, factor: 1, detail: "new" });
        break;
      case "deploy_latency": {
        const s = at(workDay(), workHour());
        const f = rng.uniform(1.5, 3);
        plans.push({ type, start: s, end: s + rng.uniform(1, 4) * HOUR, factor: f, detail: `latency ×${f.toFixed(1)}` });
        break;
      }
    }
  }
  return plans.filter((p) => p.start < end);
}
