import type { AgentEvent } from "@kakunin/shared";
import { planBenign } from "./benign.ts";
import { applicable, placeEpisodes } from "./episodes.ts";
import { KINDS } from "./kinds/index.ts";
import type { KindVariant } from "./model.ts";
import { DAY } from "./rhythm.ts";
import { Rng } from "../common/rng.ts";
import { simulateNormal } from "./simulate.ts";
import { toAgentEvent } from "./sim-event.ts";
import { ATTACK_TYPES, type AttackType, type Draft, type Episode, type LabelledEvent, type SimAgent, type Suite } from "./types.ts";

export interface SuiteSpec {
  name: string;
  seed: number;
  /** Agents per kind. */
  kinds: Record<string, number>;
  /** Share of agents that get anomaly episodes; the rest stay clean all the way. */
  anomalousShare: number;
  variant: KindVariant;
  /** Exfiltration and discovery pace: dev is fast only, the holdout also low-and-slow. */
  slowShare: number;
  /** History ends here (UTC ms); each agent has 7–14 days before it. */
  end: number;
}

export function buildSuite(spec: SuiteSpec): Suite {
  const root = new Rng(spec.seed);
  const counts = new Map<AttackType, number>(ATTACK_TYPES.map((t) => [t, 0]));
  const agents: SimAgent[] = [];
  const order = root.shuffle(Object.entries(spec.kinds).flatMap(([kind, n]) => Array.from({ length: n }, (_, i) => ({ kind, i }))));
  const anomalous = new Set(root.sample(order.map((_, i) => i), Math.round(order.length * spec.anomalousShare)));
  for (const [idx, { kind, i }] of order.entries()) {
    const def = KINDS[kind];
    if (!def) throw new Error(`unknown kind ${kind}`);
    const id = `${spec.name}-${kind}-${String(i + 1).padStart(2, "0")}`;
    const r = root.fork(id);
    const m = def.create(r.fork("params"), spec.variant);
    const days = r.int(7, 14);
    const start = spec.end - days * DAY;
    const hasEpisodes = anomalous.has(idx);
    const benign = planBenign(m, r.fork("benign"), start, spec.end, hasEpisodes ? 1 : 2);
    const drafts = simulateNormal(m, r.fork("normal"), start, spec.end, benign);
    let sid = 1_000_000;
    const episodes: Episode[] = [];
    const labelled = new Map<Draft, Episode>();
    const added: Draft[] = [];
    if (hasEpisodes) {
      // Balance coverage across the suite: least-used applicable attack types first.
      const k = Number(r.weighted({ 1: 0.1, 2: 0.25, 3: 0.35, 4: 0.3 }));
      const pool = r.shuffle(ATTACK_TYPES.filter((t) => applicable(t, m, drafts))).sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0));
      const ar = r.fork("attacks");
      const placed = placeEpisodes(m, ar, drafts, start, spec.end, pool.slice(0, k), () => (ar.chance(spec.slowShare) ? "slow" : "fast"), () => `s${++sid}`);
      for (const p of placed) {
        const ep: Episode = { id: `${id}#${episodes.length + 1}`, agentId: id, attack: p.type, variant: p.injection.variant, start: p.start, end: p.end };
        episodes.push(ep);
        counts.set(p.type, (counts.get(p.type) ?? 0) + 1);
        for (const d of [...p.injection.add, ...p.injection.modified]) labelled.set(d, ep);
        added.push(...p.injection.add);
      }
    }
    const all = [...drafts, ...added].sort((a, b) => a.ts - b.ts);
    const events = all.map((d, n): LabelledEvent => {
      const ep = labelled.get(d);
      return { event: toEvent(d, `${id}.${n}`), ts: d.ts, episode: ep, benign: ep ? undefined : d.benign };
    });
    agents.push({ id, kind, profile: m.profile, scopes: m.scopes, events, episodes, benign });
  }
  return { name: spec.name, seed: spec.seed, agents };
}

/** The wire event for a draft (sim-event.ts's conversion): its session id is its only attribute. */
function toEvent(d: Draft, id: string): AgentEvent {
  return toAgentEvent(id, d.session === undefined ? d : { ...d, attributes: { session_id: d.session } });
}

/** Moves a whole suite in time by `ms` (whole weeks keep weekdays and hours): the edge refuses old events. */
export function shiftSuite(s: Suite, ms: number): Suite {
  return {
    ...s,
    agents: s.agents.map((a) => {
      const eps = new Map(a.episodes.map((e) => [e.id, { ...e, start: e.start + ms, end: e.end + ms }]));
      return {
        ...a,
        episodes: [...eps.values()],
        benign: a.benign.map((b) => ({ ...b, start: b.start + ms, end: b.end + ms })),
        events: a.events.map((le) => ({
          ...le, ts: le.ts + ms, episode: le.episode ? eps.get(le.episode.id) : undefined,
          event: { ...le.event, timestamp: new Date(le.ts + ms).toISOString() },
        })),
      };
    }),
  };
}
