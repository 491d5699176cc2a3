import { toAgentEvent } from "../sim-event.ts";
import { ATTACK_TYPES, type AttackType, type Episode, type LabelledEvent, type SimAgent, type Suite } from "../types.ts";
import { ATTACKS, applicable } from "./attacks.ts";
import { CODE } from "./code.ts";
import { COMPLIANCE } from "./compliance.ts";
import { INGEST } from "./ingest.ts";
import { LOANS } from "./loans.ts";
import { type Arch, DAY, type Drawn, type Gen, type Shared } from "./model.ts";
import { Rng } from "./random.ts";
import { WEALTH } from "./wealth.ts";

export interface WorldESpec {
  name: string;
  seed: number;
  agentsPerArchetype: number;
  /** Share of agents with 1–2 episodes; the rest stay clean. */
  anomalousShare: number;
  /** End of every history (UTC ms); histories are 20–60 days before it. */
  end: number;
}

export const WORLD_E: WorldESpec = { name: "world-e", seed: 0xe0e, agentsPerArchetype: 6, anomalousShare: 0.7, end: Date.UTC(2026, 10, 20) };

export const ARCHETYPES: readonly Arch[] = [INGEST, LOANS, WEALTH, COMPLIANCE, CODE];

/** Deals attack families over the world: each episode gets the fitting family with the fewest episodes so far. */
function dealer(r: Rng): (d: Drawn, not: readonly AttackType[]) => { attack: AttackType; nth: number } {
  const count = new Map<AttackType, number>(ATTACK_TYPES.map((t) => [t, 0]));
  return (d, not) => {
    const cands = r.shuffle(ATTACK_TYPES.filter((t) => applicable(d.p, d.normal, t) && !not.includes(t)));
    const best = cands.reduce((b, t) => (count.get(t)! < count.get(b)! ? t : b));
    const nth = count.get(best)!;
    count.set(best, nth + 1);
    return { attack: best, nth };
  };
}

/** One episode, or two in separate halves ≥ 2 days apart; the first at least 10 days in. */
function inject(r: Rng, d: Drawn, next: ReturnType<typeof dealer>): { episodes: Episode[]; injected: Gen[] } {
  const { p, normal } = d;
  const lo = p.start + 10 * DAY;
  const hi = p.end - DAY;
  const mid = (lo + hi) / 2;
  const slots: [number, number][] =
    r.chance(0.5) && hi - lo > 8 * DAY
      ? [
          [lo, mid - DAY],
          [mid + DAY, hi],
        ]
      : [[lo, hi]];
  const episodes: Episode[] = [];
  const injected: Gen[] = [];
  for (const [k, [from, to]] of slots.entries()) {
    const { attack, nth } = next(
      d,
      episodes.map((e) => e.attack),
    );
    const id = `${p.id}#${k}`;
    const drift = attack === "drift_amount" || attack === "drift_mix";
    const start = drift ? from : r.between(from, to);
    const out = ATTACKS[attack]({ r, p, normal, lo: start, hi: Math.max(start + DAY, to), episode: id, nth });
    const gens = out.gens.filter((g) => g.ev.ts >= p.start && g.ev.ts < p.end);
    if (gens.length === 0) continue;
    const ts = gens.map((g) => g.ev.ts);
    episodes.push({ id, agentId: p.id, attack, variant: out.variant, start: Math.min(...ts), end: Math.max(...ts) });
    if (!out.inPlace) injected.push(...gens);
  }
  return { episodes, injected };
}

function shared(seed: number, ai: number): Shared {
  const r = new Rng((seed * 53 + ai * 101) >>> 0);
  return {
    // Vendor switch on a weekday between 2026-10-12 and 2026-11-06, 06:00 UTC.
    switchAt: Date.UTC(2026, 9, 12 + r.pick([0, 1, 2, 3, 7, 8, 9, 10, 14, 15, 16, 17, 21, 22, 23, 24, 25])) + 6 * 3_600_000,
    crash: `2026-${r.pick(["10-14", "10-22", "11-04", "11-12"])}`,
    rateChange: `2026-${r.pick(["10-19", "10-28", "11-05"])}`,
  };
}

/** World E: five bank archetypes × 6 agents, blind; ~70 % of agents get 1–2 attack episodes. */
export function buildWorldE(spec: WorldESpec = WORLD_E): Suite {
  const agents: SimAgent[] = [];
  const next = dealer(new Rng(spec.seed * 31));
  for (const [ai, arch] of ARCHETYPES.entries()) {
    const order = new Rng(spec.seed * 37 + ai).shuffle(Array.from({ length: spec.agentsPerArchetype }, (_, i) => i));
    const bad = new Set(order.slice(0, Math.round(spec.anomalousShare * spec.agentsPerArchetype)));
    const sh = shared(spec.seed, ai);
    for (let i = 0; i < spec.agentsPerArchetype; i++) {
      // One stream per agent: a change to one archetype does not reshuffle the others.
      const r = new Rng((spec.seed * 1_000_003 + ai * 1009 + i * 7919) >>> 0);
      const d = arch.draw(r, `e-${arch.name}-${i}`, spec.end, sh);
      const { episodes, injected } = bad.has(i) ? inject(r, d, next) : { episodes: [], injected: [] };
      const byId = new Map(episodes.map((e) => [e.id, e]));
      const all = [...d.normal, ...injected].sort((x, y) => x.ev.ts - y.ev.ts);
      const events: LabelledEvent[] = all.map((g, j) => {
        const episode = g.episode ? byId.get(g.episode) : undefined;
        return { event: toAgentEvent(`${d.p.id}.${j}`, g.ev), ts: g.ev.ts, episode, benign: episode ? undefined : g.benign };
      });
      agents.push({ id: d.p.id, kind: arch.name, profile: d.profile, scopes: d.p.scopes, events, episodes, benign: d.benign });
    }
  }
  return { name: spec.name, seed: spec.seed, agents };
}
