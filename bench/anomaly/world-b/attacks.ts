import type { AttackType } from "../types.ts";
import { baseIntensity, DAY, HOUR, localTime, Pool, stepEvent, type AgentParams, type Ev, type TaskCtx } from "./agent.ts";
import type { Step } from "./archetypes.ts";
import { emitTask, pickTemplate, type NormalEv } from "./normal.ts";
import type { Rand } from "./random.ts";

export const FAMILIES: AttackType[] = [
  "rate_burst", "amount_spike", "dormant_tool", "out_of_scope", "exfiltration", "error_storm",
  "odd_hours", "impossible_sequence", "drift_amount", "drift_mix",
];

const hasAmounts = (p: AgentParams) => p.arch.templates.some((t) => t.steps.some((s) => s.amount !== undefined));

/** Families that make sense for this agent (no amount attacks on an agent that moves no money, no odd hours for a 24/7 one). */
export function applicable(p: AgentParams): AttackType[] {
  return FAMILIES.filter((f) => {
    if (f === "amount_spike" || f === "drift_amount") return hasAmounts(p);
    if (f === "odd_hours") return !p.arch.shifts;
    // Exfiltration reads more through one of the agent's own read steps (an agent drawn without any has none to abuse).
    if (f === "exfiltration") return readSteps(p).length > 0;
    return true;
  });
}

export interface Injected {
  /** Extra events, all labelled with the episode. */
  events: Ev[];
  /** For drift: per normal event inside the window, a replacement (`replace`) or extra events (`add`), all labelled. */
  rewrite?: (e: NormalEv, progress: number) => Ev[] | undefined;
  mode?: "replace" | "add";
  start: number;
  end: number;
  variant: string;
}

/** A working moment at least `after` into the agent's history, not on a holiday or in an outage. */
export function workingMoment(p: AgentParams, r: Rand, after: number, before: number): number {
  for (let i = 0; i < 500; i++) {
    const t = p.start + r.uniform(after, before);
    const { dayStart } = localTime(p, t);
    if (baseIntensity(p, t) >= 0.3 && !p.holidays.has(dayStart) && !p.outages.some((o) => t >= o.start - HOUR && t < o.end + 3 * HOUR)) return t;
  }
  return p.start + after;
}

function oddMoment(p: AgentParams, r: Rand, after: number, before: number): number {
  for (let i = 0; i < 2000; i++) {
    const t = Math.floor((p.start + r.uniform(after, before)) / HOUR) * HOUR;
    let quiet = true;
    for (let k = -3; k <= 4; k++) if (baseIntensity(p, t + k * HOUR) > 0) quiet = false;
    if (quiet) return t + r.uniform(0, 0.5) * HOUR;
  }
  return p.start + after;
}

const readSteps = (p: AgentParams) => p.arch.templates.flatMap((t) => t.steps).filter((s) => s.read);
const amountSteps = (p: AgentParams) => p.arch.templates.flatMap((t) => t.steps).filter((s) => s.amount !== undefined);
const allSteps = (p: AgentParams) => p.arch.templates.flatMap((t) => t.steps);

export function inject(f: AttackType, p: AgentParams, r: Rand, t0: number): Injected {
  const c: TaskCtx = { r, p, customers: new Pool("zz"), caseId: `x-${Math.floor(t0 / 1000).toString(36)}` };
  const events: Ev[] = [];
  let t = t0;
  switch (f) {
    case "rate_burst": {
      const loop = r.chance(0.5);
      const n = loop ? r.int(40, 400) : r.int(60, 250);
      const step = r.pick(allSteps(p));
      for (let i = 0; i < n; i++) {
        events.push(stepEvent(loop ? step : r.pick(allSteps(p)), c, t));
        t += loop ? r.uniform(300, 3000) : r.uniform(100, 800);
      }
      return { events, start: t0, end: t, variant: loop ? `runaway loop ${step.action} ×${n}` : `scripted sweep ×${n}` };
    }
    case "amount_spike": {
      const n = r.int(1, 3);
      const factor = Math.exp(r.uniform(Math.log(25), Math.log(400)));
      for (let i = 0; i < n; i++) {
        events.push(stepEvent(r.pick(amountSteps(p)), c, t, factor));
        t += r.heavyGap(p.arch.gapMs * 3);
      }
      return { events, start: t0, end: t, variant: `${n} × ${factor.toFixed(0)}× usual amount` };
    }
    case "dormant_tool": {
      const step = r.pick(p.arch.dormant);
      const n = r.int(3, 20);
      const span = r.uniform(10, 60) * 60_000;
      for (let i = 0; i < n; i++) events.push(stepEvent(step, c, t0 + (span * i) / n + r.uniform(0, 20_000)));
      return { events, start: t0, end: t0 + span, variant: `${step.action} ×${n} over ${Math.round(span / 60_000)} min` };
    }
    case "out_of_scope": {
      const n = r.int(2, 6);
      for (let i = 0; i < n; i++) {
        events.push({ ...stepEvent(r.pick(allSteps(p)), c, t), action: r.pick(p.arch.outside) });
        t += r.uniform(20_000, 300_000);
      }
      return { events, start: t0, end: t, variant: `${n} undeclared actions` };
    }
    case "exfiltration": {
      const bulk = r.chance(0.5);
      const n = bulk ? r.int(5, 30) : r.int(40, 150);
      const factor = bulk ? r.uniform(20, 200) : r.uniform(6, 15);
      const gap = bulk ? 20_000 : r.uniform(2, 6) * HOUR / n;
      for (let i = 0; i < n; i++) {
        const step: Step = r.pick(readSteps(p));
        events.push(stepEvent(step, { ...c, caseId: `x-${i}-${r.int(0, 1e6).toString(36)}` }, t, 1, factor));
        t += r.uniform(0.3, 1.7) * gap;
      }
      return { events, start: t0, end: t, variant: bulk ? `bulk ${n} reads at ${factor.toFixed(0)}× volume` : `trickle ${n} reads at ${factor.toFixed(1)}× volume` };
    }
    case "error_storm": {
      const n = r.int(15, 80);
      const denied = r.chance(0.5);
      for (let i = 0; i < n; i++) {
        const e = stepEvent(r.pick(allSteps(p)), c, t);
        events.push({ ...e, outcome: r.chance(0.85) ? (denied ? "denied" : "error") : "success" });
        t += r.heavyGap(Math.min(p.arch.gapMs, 10_000));
      }
      return { events, start: t0, end: t, variant: `${n} events, mostly ${denied ? "denied" : "errors"}` };
    }
    case "odd_hours": {
      const start = oddMoment(p, r, t0 - p.start, p.end - p.start - DAY);
      const n = r.int(3, 8);
      let tt = start;
      for (let i = 0; i < n; i++) {
        events.push(...emitTask(pickTemplate(p, r), c, tt));
        tt = events[events.length - 1]!.ts + r.uniform(60_000, 600_000);
      }
      return { events, start, end: events[events.length - 1]!.ts, variant: `${n} tasks at local ${localTime(p, start).hour}:00 on day ${localTime(p, start).dow}` };
    }
    case "impossible_sequence": {
      const n = r.int(3, 8);
      for (let i = 0; i < n; i++) {
        // Task steps in reverse: payout before assessment, close before intake, publish before reading.
        const steps = [...pickTemplate(p, r).steps].reverse();
        for (const s of steps) {
          events.push(stepEvent(s, c, t));
          t += r.heavyGap(p.arch.gapMs);
        }
        t += r.uniform(30_000, 300_000);
      }
      return { events, start: t0, end: t, variant: `${n} reversed tasks` };
    }
    case "drift_amount": {
      const days = r.uniform(5, 8);
      const factor = r.uniform(4, 10);
      return {
        events, start: t0, end: t0 + days * DAY, mode: "replace", variant: `amounts ×${factor.toFixed(1)} over ${days.toFixed(1)} days`,
        rewrite: (e, x) => (e.ev.amount === undefined ? undefined : [{ ...e.ev, amount: Math.round(e.ev.amount * (1 + (factor - 1) * x) * 100) / 100 }]),
      };
    }
    case "drift_mix": {
      const days = r.uniform(5, 8);
      const target = r.uniform(0.25, 0.4);
      const steps = allSteps(p);
      const rare = steps[steps.length - 1]!;
      return {
        events, start: t0, end: t0 + days * DAY, mode: "add", variant: `${rare.action} grows to ${(target * 100).toFixed(0)}% over ${days.toFixed(1)} days`,
        rewrite: (e, x) => {
          const share = 0.01 + (target - 0.01) * x;
          // Extra uses of the rare action alongside normal work, so its share reaches `share`.
          return r.chance(share / (1 - share)) ? [stepEvent(rare, c, e.ev.ts + r.uniform(500, 5000))] : undefined;
        },
      };
    }
  }
  throw new Error(`unknown family ${f}`);
}
