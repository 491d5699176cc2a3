import { toAgentEvent } from "../sim-event.ts";
import { ATTACK_TYPES, type AttackType, type BenignWindow, type Episode, type EventType, type LabelledEvent, type SimAgent, type Suite } from "../types.ts";
import type { Arch } from "./arch.ts";
import { ARCHETYPES, DEVOPS, resetIds } from "./archetypes.ts";
import { ATTACKS, applicable } from "./attacks.ts";
import { drawAgent, type Drawn } from "./agent.ts";
import { DAY, type Labelled } from "./model.ts";
import { Rand } from "./random.ts";

export interface WorldCSpec {
  name: string;
  seed: number;
  agentsPerArchetype: number;
  /** Share of agents with 1–2 episodes; the rest stay clean. */
  anomalousShare: number;
  /** End of every history (UTC ms); histories are 21–35 days before it. */
  end: number;
}

export const WORLD_C: WorldCSpec = { name: "world-c", seed: 0xc0c, agentsPerArchetype: 7, anomalousShare: 0.7, end: Date.UTC(2026, 3, 1) };

/**
 * Deals attack families over the whole world: each episode gets the applicable family with the
 * fewest episodes so far (ties broken at random), so every family ends up with about as many.
 */
function dealer(r: Rand): (a: Arch, not: readonly AttackType[]) => AttackType {
  const count = new Map<AttackType, number>(ATTACK_TYPES.map((t) => [t, 0]));
  return (a, not) => {
    const cands = r.shuffle(ATTACK_TYPES.filter((t) => applicable(a, t) && !not.includes(t)));
    const best = cands.reduce((b, t) => (count.get(t)! < count.get(b)! ? t : b));
    count.set(best, count.get(best)! + 1);
    return best;
  };
}

/** Episodes for one agent: one in [lo, hi] or two in separate halves at least two days apart. */
function injectEpisodes(
  r: Rand,
  d: Drawn,
  a: Arch,
  next: (a: Arch, not: readonly AttackType[]) => AttackType,
  normal: Labelled[],
): { episodes: Episode[]; injected: Labelled[] } {
  const { p } = d;
  const lo = p.start + 10 * DAY;
  const hi = p.end - DAY;
  const n = r.chance(0.55) ? 2 : 1;
  const mid = (lo + hi) / 2;
  const slots =
    n === 1
      ? [[lo, hi]]
      : [
          [lo, mid - DAY],
          [mid + DAY, hi],
        ];
  const types = new Map<string, EventType>();
  for (const l of normal) types.set(l.ev.action, l.ev.type);
  const episodes: Episode[] = [];
  const injected: Labelled[] = [];
  for (const [k, [from, to]] of slots.entries()) {
    const attack = next(
      a,
      episodes.map((e) => e.attack),
    );
    const id = `${p.id}#${k}`;
    const out = ATTACKS[attack]({ r, p, a, lo: from!, hi: to!, normal, types, episode: id });
    const evs = out.evs.filter((e) => e.ts >= p.start && e.ts < p.end);
    if (evs.length === 0) continue;
    const ts = evs.map((e) => e.ts);
    episodes.push({ id, agentId: p.id, attack, variant: out.variant, start: Math.min(...ts), end: Math.max(...ts) });
    if (!out.inPlace) injected.push(...evs.map((ev) => ({ ev, episode: id })));
  }
  return { episodes, injected };
}

/**
 * World C: five archetypes × 7 agents, normal work from per-agent rhythms and benign surprises,
 * then 1–2 attack episodes on ~70 % of agents at least 10 days into their history.
 */
export function buildWorldC(spec: WorldCSpec = WORLD_C): Suite {
  resetIds();
  const agents: SimAgent[] = [];
  const next = dealer(new Rand(spec.seed * 31));
  for (const [ai, arch] of ARCHETYPES.entries()) {
    // Exactly round(share × n) anomalous agents per archetype, chosen at random: no archetype is left without attacks by chance.
    const order = new Rand(spec.seed * 37 + ai).shuffle(Array.from({ length: spec.agentsPerArchetype }, (_, i) => i));
    const bad = new Set(order.slice(0, Math.round(spec.anomalousShare * spec.agentsPerArchetype)));
    for (let i = 0; i < spec.agentsPerArchetype; i++) {
      // One stream per agent: a change to one archetype does not reshuffle the others.
      const r = new Rand((spec.seed * 1_000_003 + ai * 1009 + i * 7919) >>> 0);
      const d = drawAgent(r, arch, `c-${arch.name}-${i}`, spec.end);
      const a = arch === DEVOPS ? { ...arch, discover: d.discover } : arch;
      const normal = d.normal;
      const anomalous = bad.has(i);
      const { episodes, injected } = anomalous ? injectEpisodes(r, d, a, next, normal) : { episodes: [], injected: [] };
      const byId = new Map(episodes.map((e) => [e.id, e]));
      const all = [...normal, ...injected];
      // A replaced tool is renamed everywhere from its switch-over on, attack events included.
      const rep = d.p.replace;
      if (rep) for (const l of all) if (l.ev.ts >= rep.at && l.ev.action === rep.from) l.ev.action = rep.to;
      all.sort((x, y) => x.ev.ts - y.ev.ts);
      const events: LabelledEvent[] = all.map((l, j) => {
        const episode = l.episode ? byId.get(l.episode) : undefined;
        return { event: toAgentEvent(`${d.p.id}.${j}`, l.ev), ts: l.ev.ts, episode, benign: episode ? undefined : l.benign };
      });
      agents.push({
        id: d.p.id,
        kind: arch.name,
        profile: d.profile,
        scopes: d.p.scopes,
        events,
        episodes,
        benign: d.benign.filter((b): b is BenignWindow => b !== undefined),
      });
    }
  }
  return { name: spec.name, seed: spec.seed, agents };
}
