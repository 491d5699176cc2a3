import { toAgentEvent } from "../sim-event.ts";
import { ATTACK_TYPES, type AttackType, type Episode, type LabelledEvent, type SimAgent, type Suite } from "../types.ts";
import { ARCHETYPES, type Arch } from "./archetypes.ts";
import { ATTACKS, SPAN } from "./attacks.ts";
import { addBenign, at, type Ctx, DAY, type Day, type Gen, HOUR, localDays, ZONES, type Zone } from "./model.ts";
import { Rng } from "./rng.ts";

export interface WorldHSpec {
  name: string;
  seed: number;
  /** Regular agents per archetype (plus one young agent each). */
  perArchetype: number;
  /** Attacked agents per archetype, out of perArchetype + 1. */
  attacked: number;
  end: number;
}

export const WORLD_H: WorldHSpec = { name: "world-h", seed: 0x48a11, perArchetype: 5, attacked: 4, end: Date.UTC(2026, 11, 1) };

const FIXED_ZONES = ["utc", "kolkata", "singapore", "tokyo", "saopaulo", "dubai", "phoenix"] as const;
const CURRENCY: Record<string, string> = {
  utc: "GBP",
  kolkata: "INR",
  singapore: "SGD",
  tokyo: "JPY",
  saopaulo: "BRL",
  dubai: "AED",
  phoenix: "USD",
  newyork: "USD",
};

/** A deck of attack families, reshuffled when empty: each family comes up about equally often. */
function dealer(r: Rng): (ok: (a: AttackType) => boolean) => AttackType | undefined {
  let deck: AttackType[] = [];
  return (ok) => {
    for (let tries = 0; tries < 2 * ATTACK_TYPES.length; tries++) {
      if (deck.length === 0) deck = r.shuffle([...ATTACK_TYPES]);
      const i = deck.findIndex(ok);
      if (i >= 0) return deck.splice(i, 1)[0];
      deck = [];
    }
    return undefined;
  };
}

function markDay(c: Ctx, d: Day, type: Parameters<typeof addBenign>[1], detail: string, days = 1): void {
  addBenign(c, type, at(c, d, 0), at(c, d, 24 * days), detail);
}

/** Agent-level benign surprises (archetype-level ones are drawn by the archetype). */
function drawBenign(c: Ctx, arch: Arch, days: readonly Day[], i: number): void {
  const r = c.r;
  const busyDays = days.filter((d) => d.n >= 4 && d.n < days.length - 2 && !d.holiday && (arch.weekendSilent ? d.dow >= 1 && d.dow <= 5 : d.dow !== 0));
  if (busyDays.length === 0) return;
  if (i === 1 || r.chance(0.15)) {
    const d = r.pick(busyDays);
    c.newTool = { from: d.n };
    markDay(c, d, "new_tool", `adopts ${arch.newTool} for good`, 2);
  }
  if (!arch.allDay && (i === 2 || r.chance(0.15))) {
    const d = r.pick(busyDays);
    const hours = r.pick([2, 2.5, 3, 4]) * (r.chance(0.5) ? 1 : -1);
    c.shift = { from: d.n, hours };
    addBenign(c, "shift_change", at(c, d, 0) - 4 * HOUR, at(c, d, 24 * 3), `team moves: working hours shift ${hours > 0 ? "+" : ""}${hours} h for good`);
  }
  if (arch.amountActions.length && (i === 3 || r.chance(0.3))) c.bigTicket = { day: r.pick(busyDays).n, factor: r.uniform(10, 40) };
  if ((i === 3 && !arch.amountActions.length) || i === 4 || r.chance(0.2)) {
    const d = r.pick(busyDays);
    c.surge = { day: d.n, factor: r.uniform(2.5, 4) };
    markDay(c, d, "busy_day", `one-off surge ${c.surge.factor.toFixed(1)}×`);
  }
  if (i === 0 || r.chance(0.25)) {
    const d = r.pick(busyDays);
    const s = at(c, d, arch.name === "kyc-refresh-worker" ? 0 : r.uniform(8, 12));
    const len = r.uniform(3, 8) * HOUR;
    const factor = r.uniform(3, 6);
    c.latency.push({ start: s, end: s + len, factor });
    addBenign(c, "deploy_latency", s, s + len, `deploy: latency ${factor.toFixed(1)}× for ${(len / HOUR).toFixed(1)} h`);
  }
  if (arch.name !== "kyc-refresh-worker") for (const d of days) if (d.holiday) markDay(c, d, "holiday_lull", `public holiday ${d.date}`);
}

function zoneFor(r: Rng, arch: Arch, i: number): [string, Zone] {
  if (arch.short === "lu" && i === 1) return ["newyork", ZONES.newyork!];
  if (i === 0 && (arch.short === "ss" || arch.short === "kyc")) return ["kolkata", ZONES.kolkata!];
  const k = r.pick(FIXED_ZONES);
  return [k, ZONES[k]!];
}

/** World H: six financial-operations archetypes × (5 + 1 young) agents, written blind. */
export function buildWorldH(spec: WorldHSpec = WORLD_H): Suite {
  const agents: SimAgent[] = [];
  const next = dealer(new Rng(`${spec.seed}/dealer`));
  for (const [ai, arch] of ARCHETYPES.entries()) {
    const n = spec.perArchetype + 1;
    const bad = new Set(new Rng(`${spec.seed}/pick/${ai}`).shuffle(Array.from({ length: n }, (_, i) => i)).slice(0, spec.attacked));
    for (let i = 0; i < n; i++) {
      const young = i === spec.perArchetype;
      const id = `h-${arch.short}-${young ? "y" : i}`;
      const r = new Rng(`${spec.seed}/${id}/normal`);
      const ra = new Rng(`${spec.seed}/${id}/attack`);
      const days = young ? r.int(8, 14) : arch.short === "cv" ? r.int(25, 32) : arch.short === "lu" && i === 1 ? r.int(38, 60) : r.int(25, 60);
      const start = spec.end - days * DAY;
      const [zk, zone] = zoneFor(r, arch, i);
      const quiet = i === 4 && arch.short !== "cv" && arch.short !== "tr";
      const scale = i === 0 ? 3 : quiet ? r.uniform(0.02, 0.035) : r.uniform(0.7, 1.3);
      const c: Ctx = {
        id,
        r,
        zone,
        start,
        end: spec.end,
        days,
        scale,
        currency: CURRENCY[zk]!,
        latency: [],
        errors: [],
        benign: [],
        out: [],
        baseError: r.uniform(0.003, 0.02),
        pools: new Map(),
        serial: 0,
        notes: [],
      };
      const cal = localDays(zone, start, spec.end);
      drawBenign(c, arch, cal, young ? -1 : i);
      const p = arch.setup(c, cal);
      for (const d of cal) arch.day(c, d, p);
      let normal = c.out.filter((g) => g.ev.ts >= start && g.ev.ts < spec.end).sort((x, y) => x.ev.ts - y.ev.ts);
      c.out = [];
      // Benign labels: the surprise in force when the event happened.
      for (const g of normal) g.benign = c.benign.find((w) => g.ev.ts >= w.start && g.ev.ts < w.end)?.type;

      const episodes: Episode[] = [];
      const injected: Gen[] = [];
      if (bad.has(i)) {
        const count = young ? 1 : ra.chance(0.45) ? 2 : 1;
        let from = young ? 5 : 10;
        for (let k = 0; k < count; k++) {
          const eid = `${id}/ep${k}`;
          const subtle = ra.chance(0.5);
          const room = cal.length - 1 - from;
          const fam = next(
            (f) =>
              (SPAN[f] ?? 0) < room &&
              !(young && SPAN[f]) &&
              ATTACKS[f]({
                ra: new Rng(`probe/${eid}/${f}`),
                c,
                arch,
                days: cal,
                normal: normal.map((g) => ({ ...g, ev: { ...g.ev } })),
                episode: eid,
                from,
                subtle,
              }) !== undefined,
          );
          if (!fam) break;
          const out = ATTACKS[fam]({ ra, c, arch, days: cal, normal, episode: eid, from, subtle });
          if (!out) continue;
          const gens = out.gens.filter((g) => g.ev.ts >= start && g.ev.ts < spec.end);
          injected.push(...gens);
          const mine = [...gens.map((g) => g.ev.ts), ...normal.filter((g) => g.episode === eid).map((g) => g.ev.ts)];
          if (mine.length === 0) continue;
          episodes.push({ id: eid, agentId: id, attack: fam, variant: out.variant, start: Math.min(...mine), end: Math.max(...mine) });
          from = out.lastDay + 2;
        }
      }
      normal = [...normal, ...injected].sort((x, y) => x.ev.ts - y.ev.ts);
      const byId = new Map(episodes.map((e) => [e.id, e]));
      const events: LabelledEvent[] = normal.map((g, j) => {
        const episode = g.episode ? byId.get(g.episode) : undefined;
        return { event: toAgentEvent(`${id}.${j}`, g.ev), ts: g.ev.ts, episode, benign: episode ? undefined : g.benign };
      });
      const scopes = [...arch.actions, ...(c.newTool ? [arch.newTool] : []), ...arch.dormant];
      const profile = [
        `${days} d`,
        zone.name,
        `scale ${scale.toFixed(2)}`,
        young ? "young" : "",
        c.shift ? `shift ${c.shift.hours} h from day ${c.shift.from}` : "",
        c.newTool ? `new tool day ${c.newTool.from}` : "",
        c.bigTicket ? `big ticket day ${c.bigTicket.day}` : "",
      ]
        .filter(Boolean)
        .join(", ");
      const benign = c.benign.filter((w) => w.end > start && w.start < spec.end).sort((x, y) => x.start - y.start);
      agents.push({ id, kind: arch.name, profile, scopes, events, episodes, benign });
    }
  }
  return { name: spec.name, seed: spec.seed, agents };
}
