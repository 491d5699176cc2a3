import { toAgentEvent } from "../sim-event.ts";
import { ATTACK_TYPES, type AttackType, type Episode, type LabelledEvent, type SimAgent, type Suite } from "../types.ts";
import { ATTACKS, applicable } from "./attacks.ts";
import { cardShared, drawCards } from "./cards.ts";
import { drawFraud } from "./fraud.ts";
import { DAY, type Drawn, type Gen, outages } from "./model.ts";
import { drawPayroll } from "./payroll.ts";
import { drawProcurement, procShared } from "./procurement.ts";
import { Rng } from "./random.ts";
import { drawResearch, researchShared } from "./research.ts";
import { drawSupport, supportShared } from "./support.ts";

export interface WorldFSpec {
  name: string;
  seed: number;
  agentsPerArchetype: number;
  /** Anomalous agents per archetype, in archetype order (≈ 70 % of 30). */
  anomalous: readonly number[];
  /** End of every history (UTC ms). */
  end: number;
}

export const WORLD_F: WorldFSpec = { name: "world-f", seed: 0xf0f0f, agentsPerArchetype: 5, anomalous: [4, 3, 4, 3, 4, 3], end: Date.UTC(2026, 10, 25) };

type Draw = (r: Rng, id: string, i: number, start: number, end: number) => Drawn;

/** The six archetypes; each gets what its agents share from its own stream. */
function archetypes(seed: number, end: number): { name: string; minDays: number; draw: Draw }[] {
  const sr = (k: number) => new Rng((seed * 97 + k * 7741) >>> 0);
  const card = cardShared(sr(0), end);
  const support = supportShared(sr(1), end);
  const fraudQuiet = sr(2).int(0, 4);
  const research = researchShared(sr(4), end);
  const proc = procShared(sr(5), end);
  return [
    { name: "card-payments-router", minDays: 21, draw: (r, id, i, s, e) => drawCards(r, id, i, s, e, card) },
    { name: "customer-support-copilot", minDays: 21, draw: (r, id, i, s, e) => drawSupport(r, id, i, s, e, support) },
    { name: "fraud-investigator", minDays: 21, draw: (r, id, i, s, e) => drawFraud(r, id, i, s, e, fraudQuiet) },
    // At least 35 days: the history must hold one monthly run (2026-10-23), the next is on the last day.
    { name: "payroll-batch", minDays: 35, draw: (r, id, i, s, e) => drawPayroll(r, id, i, s, e) },
    { name: "research-summariser", minDays: 21, draw: (r, id, i, s, e) => drawResearch(r, id, i, s, e, research) },
    { name: "procurement-agent", minDays: 21, draw: (r, id, i, s, e) => drawProcurement(r, id, i, s, e, proc) },
  ];
}

/** Deals attack families over the world: the fitting family with the fewest episodes so far. */
function dealer(r: Rng): (d: Drawn, not: readonly AttackType[]) => { attack: AttackType; nth: number } | undefined {
  const count = new Map<AttackType, number>(ATTACK_TYPES.map((t) => [t, 0]));
  return (d, not) => {
    const cands = r.shuffle(ATTACK_TYPES.filter((t) => applicable(d.p, d.normal, t) && !not.includes(t)));
    if (cands.length === 0) return undefined;
    const best = cands.reduce((b, t) => (count.get(t)! < count.get(b)! ? t : b));
    const nth = count.get(best)!;
    count.set(best, nth + 1);
    return { attack: best, nth };
  };
}

/** One episode, or (p 0.5) two: the first at least 10 days in, the second ≥ 2 days after the first ends. */
function inject(r: Rng, d: Drawn, next: ReturnType<typeof dealer>): { episodes: Episode[]; injected: Gen[] } {
  const { p, normal } = d;
  const lo = p.start + 10 * DAY;
  const hi = p.end - DAY;
  const two = r.chance(0.5) && hi - lo > 9 * DAY;
  const episodes: Episode[] = [];
  const injected: Gen[] = [];
  let from = lo;
  for (let k = 0; k < (two ? 2 : 1); k++) {
    const to = two && k === 0 ? lo + (hi - lo) / 2 : hi;
    if (from >= to) break;
    const deal = next(
      d,
      episodes.map((e) => e.attack),
    );
    if (!deal) break;
    const { attack, nth } = deal;
    const id = `${p.id}#${k}`;
    const drift = attack === "drift_amount" || attack === "drift_mix";
    const start = drift ? from : r.between(from, to);
    const out = ATTACKS[attack]({ r, p, normal, lo: start, hi: drift ? hi : Math.max(start + DAY, to), episode: id, nth });
    const gens = out.gens.filter((g) => g.ev.ts >= p.start && g.ev.ts < p.end);
    const all = [...gens, ...(out.touched ?? [])];
    if (all.length === 0) continue;
    const ts = all.map((g) => g.ev.ts);
    const ep: Episode = { id, agentId: p.id, attack, variant: out.variant, start: Math.min(...ts), end: Math.max(...ts) };
    episodes.push(ep);
    injected.push(...gens);
    from = ep.end + 2 * DAY;
  }
  return { episodes, injected };
}

/** World F: six payments/ops archetypes × 5 agents, blind; 21 of 30 agents get 1–2 attack episodes. */
export function buildWorldF(spec: WorldFSpec = WORLD_F): Suite {
  const agents: SimAgent[] = [];
  const next = dealer(new Rng(spec.seed * 31 + 5));
  for (const [ai, arch] of archetypes(spec.seed, spec.end).entries()) {
    const order = new Rng(spec.seed * 37 + ai).shuffle(Array.from({ length: spec.agentsPerArchetype }, (_, i) => i));
    const bad = new Set(order.slice(0, spec.anomalous[ai] ?? 0));
    for (let i = 0; i < spec.agentsPerArchetype; i++) {
      // Own streams per agent: normal traffic, outages and attacks each from their own.
      const r = new Rng((spec.seed * 1_000_003 + ai * 1009 + i * 7919) >>> 0);
      const ra = new Rng((spec.seed * 2_000_029 + ai * 3089 + i * 6151) >>> 0);
      const days = r.int(arch.minDays, 55);
      const start = spec.end - days * DAY;
      const id = `f-${arch.name}-${i}`;
      const d = arch.draw(r, id, i, start, spec.end);
      if (arch.name !== "card-payments-router" && ra.chance(0.3)) d.benign.push(...outages(ra, d.normal, start, spec.end, ra.int(1, 2)));
      const { episodes, injected } = bad.has(i) ? inject(ra, d, next) : { episodes: [], injected: [] };
      const byId = new Map(episodes.map((e) => [e.id, e]));
      const all = [...d.normal, ...injected].sort((x, y) => x.ev.ts - y.ev.ts);
      const events: LabelledEvent[] = all.map((g, j) => {
        const episode = g.episode ? byId.get(g.episode) : undefined;
        return { event: toAgentEvent(`${id}.${j}`, g.ev), ts: g.ev.ts, episode, benign: episode ? undefined : g.benign };
      });
      agents.push({ id, kind: arch.name, profile: `${days} d, ${d.profile}`, scopes: d.p.scopes, events, episodes, benign: d.benign });
    }
  }
  return { name: spec.name, seed: spec.seed, agents };
}
