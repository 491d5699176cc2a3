import { toAgentEvent } from "../sim-event.ts";
import type { AttackType, Episode, LabelledEvent, SimAgent, Suite } from "../types.ts";
import { DAY, drawAgent, type Ev } from "./agent.ts";
import { ARCHETYPES } from "./archetypes.ts";
import { applicable, inject } from "./attacks.ts";
import { simulateNormal, type NormalEv } from "./normal.ts";
import { Rand } from "./random.ts";

export interface WorldBSpec {
  name: string;
  seed: number;
  agentsPerArchetype: number;
  /** Share of agents with 1–2 episodes; the rest stay clean. */
  anomalousShare: number;
  /** Last event time (UTC ms); each agent's history is `days` (default 21–35) days before it. */
  end: number;
  /** History length range in days (default 21–35) and days of normal work before the first episode (default 12). */
  days?: readonly [number, number];
  warmDays?: number;
}

export const WORLD_B: WorldBSpec = { name: "world-b", seed: 0xb0b, agentsPerArchetype: 8, anomalousShare: 0.7, end: Date.UTC(2026, 2, 2) };

/**
 * World B as the bench commands' options ask for it: another seed (`--b-seed`), shorter histories
 * (`--b-days 10-14`, first episode after `--b-warm` days, default 5); the shipped world otherwise.
 */
export function worldBSpec(opts: { seed?: number; days?: string; warm?: string }): WorldBSpec {
  const days = opts.days?.split("-").map(Number);
  return {
    ...WORLD_B,
    ...(days?.length === 2 ? { days: [days[0]!, days[1]!] as const, warmDays: Number(opts.warm ?? 5) } : {}),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
  };
}

/**
 * World B: agents drawn from six archetypes, normal work from their rhythms, then 1–2 attack
 * episodes on most of them (families dealt round-robin over what applies to the agent, so every
 * family gets episodes), at least 12 days into the agent's history.
 */
export function buildWorldB(spec: WorldBSpec = WORLD_B): Suite {
  const root = new Rand(spec.seed);
  const agents: SimAgent[] = [];
  let deal = 0;
  const counts = new Map<AttackType, number>();
  for (const arch of ARCHETYPES) {
    for (let i = 0; i < spec.agentsPerArchetype; i++) {
      const id = `b-${arch.name}-${i}`;
      const r = root.fork(id);
      const days = r.int(spec.days?.[0] ?? 21, spec.days?.[1] ?? 35);
      const warm = spec.warmDays ?? 12;
      const p = drawAgent(r, id, arch.name, spec.end - days * DAY, spec.end);
      const { events: normal, benign } = simulateNormal(p, r.fork("normal"));
      const episodes: Episode[] = [];
      const labelled: { ev: Ev; episode?: Episode; benign?: NormalEv["benign"] }[] = [];
      const anomalous = r.chance(spec.anomalousShare);
      const nEp = anomalous ? r.int(1, 2) : 0;
      const fams = applicable(p);
      const injected: { ep: Episode; inj: ReturnType<typeof inject> }[] = [];
      for (let k = 0; k < nEp; k++) {
        // The least-dealt applicable family next, so families stay balanced across the world.
        const f = [...fams].sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0) || fams.indexOf(a) - fams.indexOf(b))[deal++ % 2]!;
        counts.set(f, (counts.get(f) ?? 0) + 1);
        const lo = warm * DAY + k * ((days - warm) / nEp) * DAY;
        const hi = warm * DAY + (k + 1) * ((days - warm) / nEp) * DAY - 2 * DAY;
        const t0 = p.start + r.uniform(lo, Math.max(lo + DAY / 2, hi));
        const inj = inject(f, p, r.fork(`ep${k}`), t0);
        const ep: Episode = { id: `${id}#${k}`, agentId: id, attack: f, variant: inj.variant, start: inj.start, end: inj.end };
        episodes.push(ep);
        injected.push({ ep, inj });
      }
      for (const n of normal) {
        const drift = injected.find(({ inj }) => inj.rewrite && n.ev.ts >= inj.start && n.ev.ts < inj.end);
        if (!drift) {
          labelled.push(n);
          continue;
        }
        const x = (n.ev.ts - drift.inj.start) / (drift.inj.end - drift.inj.start);
        const out = drift.inj.rewrite!(n, x);
        if (drift.inj.mode === "replace") {
          if (out) labelled.push(...out.map((ev) => ({ ev, episode: drift.ep })));
          else labelled.push(n);
        } else {
          labelled.push(n, ...(out ?? []).map((ev) => ({ ev, episode: drift.ep })));
        }
      }
      for (const { ep, inj } of injected) for (const ev of inj.events) if (ev.ts < spec.end) labelled.push({ ev, episode: ep });
      labelled.sort((a, b) => a.ev.ts - b.ev.ts);
      const events: LabelledEvent[] = labelled.map((l, j) => ({
        event: toAgentEvent(`${id}.${j}`, l.ev),
        ts: l.ev.ts,
        episode: l.episode,
        benign: l.episode ? undefined : l.benign,
      }));
      agents.push({
        id,
        kind: arch.name,
        profile: `${arch.name} tz ${p.tz >= 0 ? "+" : ""}${p.tz} peak ${p.peak.toFixed(1)}/h err ${(p.errorRate * 100).toFixed(1)}%`,
        scopes: arch.scopes,
        events,
        episodes,
        benign,
      });
    }
  }
  return { name: spec.name, seed: spec.seed, agents };
}
