import { toAgentEvent } from "../sim-event.ts";
import { ATTACK_TYPES, type AttackType, type Episode, type LabelledEvent, type SimAgent, type Suite } from "../types.ts";
import { ANALYST } from "./analyst.ts";
import type { Arch } from "./arch.ts";
import { ATTACKS, applicable } from "./attacks.ts";
import { CLAIMS } from "./claims.ts";
import { HELPDESK } from "./helpdesk.ts";
import { KYC } from "./kyc.ts";
import { DAY, type Drawn, type Gen, type Profile, type Shared } from "./model.ts";
import { Rand } from "./random.ts";
import { TRADING } from "./trading.ts";
import { TREASURY } from "./treasury.ts";

export interface WorldDSpec {
  name: string;
  seed: number;
  agentsPerArchetype: number;
  /** Share of agents with 1–2 episodes; the rest stay clean. */
  anomalousShare: number;
  /** End of every history (UTC ms); histories are 28–42 days before it. */
  end: number;
}

export const WORLD_D: WorldDSpec = { name: "world-d", seed: 0xd0d, agentsPerArchetype: 6, anomalousShare: 0.7, end: Date.UTC(2026, 9, 5) };

export const ARCHETYPES: readonly Arch[] = [TREASURY, KYC, TRADING, CLAIMS, ANALYST, HELPDESK];

/** Deals attack families over the world: each episode gets the fitting family with the fewest episodes so far. */
function dealer(r: Rand): (a: Arch, p: Profile, not: readonly AttackType[]) => { attack: AttackType; nth: number } {
  const count = new Map<AttackType, number>(ATTACK_TYPES.map((t) => [t, 0]));
  return (a, p, not) => {
    const cands = r.shuffle(ATTACK_TYPES.filter((t) => applicable(a, p, t) && !not.includes(t)));
    const best = cands.reduce((b, t) => (count.get(t)! < count.get(b)! ? t : b));
    const nth = count.get(best)!;
    count.set(best, nth + 1);
    return { attack: best, nth };
  };
}

/** One episode in [lo, hi], or two in separate halves at least two days apart; the first at least 10 days in. */
function injectEpisodes(r: Rand, d: Drawn, a: Arch, next: ReturnType<typeof dealer>): { episodes: Episode[]; injected: Gen[] } {
  const { p, normal } = d;
  const lo = p.start + 10 * DAY;
  const hi = p.end - DAY;
  const mid = (lo + hi) / 2;
  const slots: [number, number][] = r.chance(0.55)
    ? [
        [lo, mid - DAY],
        [mid + DAY, hi],
      ]
    : [[lo, hi]];
  const episodes: Episode[] = [];
  const injected: Gen[] = [];
  for (const [k, [from, to]] of slots.entries()) {
    const { attack, nth } = next(
      a,
      p,
      episodes.map((e) => e.attack),
    );
    const id = `${p.id}#${k}`;
    // Drifts need room: they start early enough in their slot to run 5–8 days.
    const start = attack === "drift_amount" || attack === "drift_mix" ? from : r.uniform(from, to);
    const out = ATTACKS[attack]({ r, p, a, lo: start, hi: Math.max(start + DAY, to), normal, episode: id, nth });
    const evs = out.evs.filter((g) => g.ev.ts >= p.start && g.ev.ts < p.end);
    if (evs.length === 0) continue;
    const ts = evs.map((g) => g.ev.ts);
    episodes.push({ id, agentId: p.id, attack, variant: out.variant, start: Math.min(...ts), end: Math.max(...ts) });
    if (!out.inPlace) injected.push(...evs);
  }
  return { episodes, injected };
}

/** What every agent of an archetype shares, from the archetype's own stream. */
function shared(seed: number, ai: number): Shared {
  const r = new Rand((seed * 53 + ai * 101) >>> 0);
  return {
    rolloutAt: Date.UTC(2026, 8, r.int(10, 28), r.int(6, 14)),
    // Company-wide summer hours for the US offices: Monday 14 September, 00:00 New York time.
    summerAt: Date.UTC(2026, 8, 14, 4),
    vacation: [Date.UTC(2026, 8, r.int(7, 14), 4), Date.UTC(2026, 8, r.int(15, 21), 4)],
  };
}

/** World D: six archetypes × 6 agents, blind; ~70 % of agents get 1–2 attack episodes. */
export function buildWorldD(spec: WorldDSpec = WORLD_D): Suite {
  const agents: SimAgent[] = [];
  const next = dealer(new Rand(spec.seed * 31));
  for (const [ai, arch] of ARCHETYPES.entries()) {
    const order = new Rand(spec.seed * 37 + ai).shuffle(Array.from({ length: spec.agentsPerArchetype }, (_, i) => i));
    const bad = new Set(order.slice(0, Math.round(spec.anomalousShare * spec.agentsPerArchetype)));
    const sh = shared(spec.seed, ai);
    for (let i = 0; i < spec.agentsPerArchetype; i++) {
      // One stream per agent: a change to one archetype does not reshuffle the others.
      const r = new Rand((spec.seed * 1_000_003 + ai * 1009 + i * 7919) >>> 0);
      const d = arch.draw(r, `d-${arch.name}-${i}`, spec.end, sh);
      const { episodes, injected } = bad.has(i) ? injectEpisodes(r, d, arch, next) : { episodes: [], injected: [] };
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
