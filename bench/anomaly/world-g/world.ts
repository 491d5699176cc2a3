import { toAgentEvent } from "../sim-event.ts";
import { ATTACK_TYPES, type AttackType, type Episode, type LabelledEvent, type SimAgent, type Suite } from "../types.ts";
import { drawAccess, drawOcr, drawSales, drawSettlement, drawTreasury } from "./archetypes.ts";
import { ATTACKS, applicable } from "./attacks.ts";
import { DAY, type Drawn, type Gen } from "./model.ts";
import { Rng } from "./random.ts";

export interface WorldGSpec {
  name: string;
  seed: number;
  agentsPerArchetype: number;
  /** Anomalous agents per archetype, in archetype order (70 % of 30). */
  anomalous: readonly number[];
  /** End of every history (UTC ms). */
  end: number;
}

export const WORLD_G: WorldGSpec = { name: "world-g", seed: 0x6e0d7, agentsPerArchetype: 6, anomalous: [4, 4, 5, 4, 4], end: Date.UTC(2026, 10, 30) };

type Draw = (r: Rng, id: string, i: number, start: number, end: number) => Drawn;
const ARCHETYPES: { name: string; short: string; minDays: number; draw: Draw }[] = [
  { name: "securities-settlement", short: "settle", minDays: 20, draw: drawSettlement },
  { name: "treasury-fx-hedger", short: "fx", minDays: 20, draw: drawTreasury },
  { name: "document-intake-ocr", short: "ocr", minDays: 20, draw: drawOcr },
  { name: "sales-crm-assistant", short: "crm", minDays: 20, draw: drawSales },
  // At least 30 days: the history must hold a review day (first Monday, 2026-11-02).
  { name: "access-review-bot", short: "iam", minDays: 30, draw: drawAccess },
];

/** Deals the fitting family with the fewest episodes so far (ties broken at random). */
function dealer(r: Rng): (d: Drawn, not: readonly AttackType[]) => AttackType | undefined {
  const count = new Map<AttackType, number>(ATTACK_TYPES.map((t) => [t, 0]));
  return (d, not) => {
    const cands = r.shuffle(ATTACK_TYPES.filter((t) => applicable(d, t) && !not.includes(t)));
    if (cands.length === 0) return undefined;
    const best = cands.reduce((b, t) => (count.get(t)! < count.get(b)! ? t : b));
    count.set(best, count.get(best)! + 1);
    return best;
  };
}

function inject(r: Rng, d: Drawn, next: ReturnType<typeof dealer>): { episodes: Episode[]; injected: Gen[] } {
  const lo = d.p.start + 10 * DAY;
  const hi = d.p.end - 2 * DAY;
  const two = r.chance(0.5) && hi - lo > 12 * DAY;
  const episodes: Episode[] = [];
  const injected: Gen[] = [];
  let from = lo;
  for (let k = 0; k < (two ? 2 : 1); k++) {
    const to = two && k === 0 ? lo + (hi - lo) / 2 : hi;
    if (from >= to) break;
    const attack = next(
      d,
      episodes.map((e) => e.attack),
    );
    if (!attack) break;
    const id = `${d.p.id}#${k}`;
    const drift = attack === "drift_amount" || attack === "drift_mix";
    const start = drift ? from : r.between(from, to - DAY);
    const out = ATTACKS[attack]({ r, d, lo: start, hi: drift ? (two && k === 0 ? to : hi) : to, episode: id });
    const gens = out.gens.filter((g) => g.ev.ts >= d.p.start && g.ev.ts < d.p.end);
    if (gens.length === 0) continue;
    const ts = gens.map((g) => g.ev.ts);
    episodes.push({ id, agentId: d.p.id, attack, variant: out.variant, start: Math.min(...ts), end: Math.max(...ts) });
    if (attack !== "drift_amount") injected.push(...gens);
    from = Math.max(...ts) + 2 * DAY;
  }
  return { episodes, injected };
}

/** World G: five back-office archetypes × 6 agents, blind; 21 of 30 agents get 1–2 attack episodes. */
export function buildWorldG(spec: WorldGSpec = WORLD_G): Suite {
  const agents: SimAgent[] = [];
  const next = dealer(new Rng(`${spec.seed}/dealer`));
  for (const [ai, arch] of ARCHETYPES.entries()) {
    const order = new Rng(`${spec.seed}/order/${ai}`).shuffle(Array.from({ length: spec.agentsPerArchetype }, (_, i) => i));
    const bad = new Set(order.slice(0, spec.anomalous[ai] ?? 0));
    for (let i = 0; i < spec.agentsPerArchetype; i++) {
      const id = `g-${arch.short}-${i}`;
      // Own streams per agent: normal traffic and attacks.
      const r = new Rng(`${spec.seed}/${id}/normal`);
      const ra = new Rng(`${spec.seed}/${id}/attack`);
      const days = r.int(arch.minDays, 50);
      const start = spec.end - days * DAY;
      const d = arch.draw(r, id, i, start, spec.end);
      d.normal = d.normal.filter((g) => g.ev.ts >= start && g.ev.ts < spec.end);
      const { episodes, injected } = bad.has(i) ? inject(ra, d, next) : { episodes: [], injected: [] };
      const byId = new Map(episodes.map((e) => [e.id, e]));
      const all = [...d.normal, ...injected].map((g, j) => ({ g, j })).sort((x, y) => x.g.ev.ts - y.g.ev.ts || x.j - y.j);
      const events: LabelledEvent[] = all.map(({ g }, j) => {
        const episode = g.episode ? byId.get(g.episode) : undefined;
        return { event: toAgentEvent(`${id}.${j}`, g.ev), ts: g.ev.ts, episode, benign: episode ? undefined : g.benign };
      });
      const benign = d.benign.filter((w) => w.end > start && w.start < spec.end);
      agents.push({ id, kind: arch.name, profile: `${days} d, ${d.profile}`, scopes: d.p.scopes, events, episodes, benign });
    }
  }
  return { name: spec.name, seed: spec.seed, agents };
}
