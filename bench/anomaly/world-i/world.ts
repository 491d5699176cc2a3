import { toAgentEvent } from "../sim-event.ts";
import type { BenignWindow, Episode, LabelledEvent, SimAgent, Suite } from "../types.ts";
import { dealer, injectAttack, planAttacks } from "./attacks.ts";
import { type Agent, type Arch, ARCHETYPES, DAY, type Gen, HOUR, localDate, localHour, MIN, type Window } from "./model.ts";
import { Stream } from "./rng.ts";

export interface WorldISpec {
  name: string;
  seed: number;
  perArchetype: number;
  end: number;
}

export const WORLD_I: WorldISpec = { name: "world-i", seed: 0x1a7e, perArchetype: 6, end: Date.UTC(2026, 11, 1) };

const ZONES = [-8, -6, -5, -3, 0, 1, 2, 3, 5.5, 8, 9, 10];
const CURRENCIES: [string, number][] = [
  ["USD", 42],
  ["EUR", 38],
  ["GBP", 33],
  ["JPY", 5200],
  ["BRL", 190],
  ["INR", 2400],
  ["SGD", 55],
  ["CHF", 40],
];

/** Requests of one agent: a non-homogeneous Poisson process (daily and weekly curve, special days, benign windows) with Hawkes self-excitation. */
function traffic(arch: Arch, a: Agent, r: Stream, out: Gen[]): void {
  const curveSum = arch.curve.reduce((s, x) => s + x, 0);
  const weekMean = arch.week.reduce((s, x) => s + x, 0) / 7;
  const base = (a.perDay * (1 - a.branch)) / DAY;
  const muAt = (t: number): number => {
    const d = localDate(a, t);
    const idx = Math.floor((t - a.start) / DAY);
    if (a.away.has(idx)) return 0;
    let m = base * ((arch.curve[localHour(a, t)]! * 24) / curveSum) * (arch.week[d.getUTCDay()]! / weekMean) * arch.dayMult(a, d);
    for (const w of a.windows) if (w.mult !== 1 && t >= w.start && t < w.end) m *= w.mult;
    return m;
  };
  const outages = a.windows.filter((w) => w.type === "outage_catchup");
  let exc = 0;
  let tExc = a.start;
  const hours = Math.round((a.end - a.start) / HOUR);
  for (let h = 0; h < hours; h++) {
    const h0 = a.start + h * HOUR;
    const h1 = h0 + HOUR;
    const mu = muAt(h0 + HOUR / 2);
    let t = h0;
    for (;;) {
      const bound = mu + exc * Math.exp(-(t - tExc) / a.decayMs);
      if (bound <= 1e-15) break;
      t += r.exp(bound);
      if (t >= h1) break;
      const e = exc * Math.exp(-(t - tExc) / a.decayMs);
      if (r.u() * bound > mu + e) continue;
      exc = e + a.branch / a.decayMs;
      tExc = t;
      let at = t;
      const o = outages.find((w) => t >= w.start && t < w.start + (w.end - w.start) * 0.6);
      // during an outage requests queue up and arrive as a backlog once it ends
      if (o) at = o.start + (o.end - o.start) * 0.6 + r.u() ** 2 * (o.end - o.start) * 0.4;
      arrive(arch, a, r, Math.round(at), out);
    }
  }
  if (arch.daily) {
    const days = Math.round((a.end - a.start) / DAY);
    for (let d = 0; d < days; d++) {
      const midnight = Math.floor((a.start + d * DAY + a.tz * HOUR) / DAY) * DAY - a.tz * HOUR;
      if (!a.away.has(d) && !outages.some((w) => midnight + 6 * HOUR >= w.start && midnight + 6 * HOUR < w.end)) arch.daily(a, r, midnight, out);
    }
  }
}

function arrive(arch: Arch, a: Agent, r: Stream, t: number, out: Gen[]): void {
  if (a.newTool && t >= a.newTool.from && r.chance(0.08)) {
    out.push({
      ev: {
        ts: t,
        type: "tool_call",
        action: a.newTool.action,
        resource: `${a.short}/x${r.int(1, 9)}`,
        outcome: "success",
        latencyMs: Math.round(r.lognormal(500, 0.4)),
      },
    });
    return;
  }
  arch.request(a, r, t, out);
}

/** Benign surprises of one agent, drawn from its benign stream. */
function planBenign(arch: Arch, a: Agent, r: Stream, days: number, busy: boolean): void {
  const dayAt = (d: number): number => a.start + d * DAY;
  const localMidnight = (d: number): number => Math.floor((dayAt(d) + a.tz * HOUR) / DAY) * DAY - a.tz * HOUR;
  const w = (type: Window["type"], start: number, end: number, detail: string, mult = 1): void => {
    a.windows.push({ type, start, end, detail, mult });
  };
  if (busy) {
    const d = days - 5;
    w("busy_day", localMidnight(d), localMidnight(d + 3), "3-day sale: ~25x demand", 25);
  }
  const kinds = r.shuffle([
    "busy_day",
    "holiday_lull",
    "new_tool",
    "outage_catchup",
    "big_ticket",
    "shift_change",
    "deploy_latency",
    ...(arch.name === "data-warehouse-reporter" ? ["new_resource", "new_resource"] : []),
  ]);
  const n = r.int(2, 4);
  for (const k of kinds.slice(0, n)) {
    const d = r.int(3, days - 2);
    const m = localMidnight(d);
    if (k === "busy_day") {
      if (arch.name === "retail-payments-gateway-agent") {
        for (let i = 0, c = r.int(1, 3); i < c; i++) {
          const s = localMidnight(r.int(3, days - 2)) + r.between(10, 20) * HOUR;
          w("busy_day", s, s + r.between(1, 3) * HOUR, "flash sale", r.between(5, 10));
        }
      } else if (arch.name === "customer-email-triage") {
        const s = m + r.between(8, 16) * HOUR;
        w("busy_day", s, s + HOUR, "spam wave: bounces");
      } else w("busy_day", m, m + DAY, "busy day", r.between(2.5, 4));
    } else if (k === "holiday_lull") {
      const hd = a.tz < -2 ? Math.floor((Date.UTC(2026, 10, 26) - a.start) / DAY) : d;
      if (hd >= 1) w("holiday_lull", localMidnight(hd), localMidnight(hd) + DAY, hd === d ? "local holiday" : "Thanksgiving", 0.12);
    } else if (k === "new_tool") {
      a.newTool = { from: m + 9 * HOUR, action: arch.newTool };
      w("new_tool", m + 9 * HOUR, m + 4 * DAY, arch.newTool);
    } else if (k === "outage_catchup") {
      const s = m + r.between(6, 14) * HOUR;
      w("outage_catchup", s, s + r.between(4, 10) * HOUR, "upstream outage, then backlog");
    } else if (k === "big_ticket") {
      const s = m + r.between(9, 17) * HOUR;
      w("big_ticket", s, s + 10 * MIN, `x${r.int(10, 60)}`);
    } else if (k === "shift_change") {
      a.shift = { from: m, hours: r.pick([-4, -3, 3, 5]) };
      w("shift_change", m, m + 3 * DAY, `curve shifted ${a.shift.hours} h`);
    } else if (k === "deploy_latency") {
      const s = m + r.between(0, 20) * HOUR;
      w("deploy_latency", s, s + r.between(2, 8) * HOUR, `latency x${r.int(3, 6)}`);
    } else if (k === "new_resource" && a.migrationAt === undefined) {
      a.migrationAt = m + 5 * HOUR;
      w("new_resource", m + 5 * HOUR, m + 3 * DAY, "schema migration: every table renamed");
    }
  }
}

/** Benign effects applied after the traffic: bounces, a big ticket, slower calls. */
function applyBenign(arch: Arch, a: Agent, r: Stream, out: Gen[]): void {
  for (const w of a.windows) {
    if (w.type === "busy_day" && w.detail.startsWith("spam")) {
      for (let i = 0, k = r.int(40, 140); i < k; i++)
        out.push({
          ev: {
            ts: Math.round(r.between(w.start, w.end)),
            type: "message",
            action: "reply.send",
            resource: `bounce-${a.short}-${i}`,
            outcome: r.chance(0.6) ? "error" : "denied",
            latencyMs: Math.round(r.lognormal(300, 0.4)),
          },
        });
    } else if (w.type === "big_ticket") {
      const x = Number(w.detail.slice(1));
      const t = Math.round(w.start + r.between(0, 5 * MIN));
      if (arch.amounts) {
        const c = a.currencies[0]!;
        const amount = Math.round(c.median * x * 100) / 100;
        const isPay = arch.name === "retail-payments-gateway-agent";
        const id = `${isPay ? "pay" : "sw"}_${a.short}_big`;
        out.push({
          ev: {
            ts: t,
            type: isPay ? "transaction" : "tool_call",
            action: isPay ? "payment.authorize" : "sweep.propose",
            resource: id,
            amount,
            currency: c.code,
            outcome: "success",
            latencyMs: 500,
          },
        });
        out.push({
          ev: {
            ts: t + 4000,
            type: "transaction",
            action: isPay ? "payment.capture" : "sweep.execute",
            resource: id,
            amount,
            currency: c.code,
            outcome: "success",
            latencyMs: 700,
          },
        });
      } else if (arch.volume) {
        const v = arch.volume;
        const med = out
          .filter((g) => g.ev.action === v.action)
          .map((g) => Number(g.ev.attributes?.[v.key] ?? 0))
          .sort((p, q) => p - q);
        const m = med[Math.floor(med.length / 2)] ?? 100;
        out.push({
          ev: {
            ts: t,
            type: v.type,
            action: v.action,
            resource: "big-ticket",
            outcome: "success",
            latencyMs: 3000,
            attributes: { [v.key]: Math.round(m * x) },
          },
        });
      }
    } else if (w.type === "deploy_latency") {
      const x = Number(w.detail.slice(9));
      for (const g of out)
        if (g.ev.ts >= w.start && g.ev.ts < w.end && g.ev.latencyMs !== undefined) g.ev.latencyMs = Math.min(86_400_000, Math.round(g.ev.latencyMs * x));
    }
  }
}

export function buildWorldI(spec: WorldISpec): Suite {
  const agents: SimAgent[] = [];
  const root = new Stream(`world-i/${spec.seed}/roster`);
  const busyAgent = root.int(0, spec.perArchetype - 1);
  const deal = dealer(new Stream(`world-i/${spec.seed}/deck`));
  for (const arch of ARCHETYPES) {
    const attacked = new Set(root.shuffle([...Array(spec.perArchetype).keys()]).slice(0, Math.round(spec.perArchetype * 0.6)));
    for (let i = 0; i < spec.perArchetype; i++) {
      const id = `${arch.name.split("-")[0]}-${arch.name.split("-")[1]}-${i}`;
      const rp = new Stream(`world-i/${spec.seed}/${id}/profile`);
      const rn = new Stream(`world-i/${spec.seed}/${id}/normal`);
      const rb = new Stream(`world-i/${spec.seed}/${id}/benign`);
      const ra = new Stream(`world-i/${spec.seed}/${id}/attack`);
      const days = rp.int(21, 45);
      const quiet = arch.name === "customer-email-triage" && i === spec.perArchetype - 1;
      const busy = arch.name === "retail-payments-gateway-agent" && i === busyAgent;
      const ccy = rp.shuffle([...CURRENCIES]).slice(0, rp.int(2, 6));
      const a: Agent = {
        id,
        short: `${arch.name.slice(0, 2)}${i}`,
        tz: rp.pick(ZONES),
        perDay: quiet ? rp.between(0.6, 1.2) : rp.between(...arch.perDay),
        branch: rp.between(...arch.branch),
        decayMs: rp.between(...arch.decayMin) * MIN,
        start: spec.end - days * DAY,
        end: spec.end,
        windows: [],
        away: new Set(),
        currencies: ccy.map(([code, med]) => ({
          code,
          median: med * (arch.amounts && arch.name.startsWith("treasury") ? 20_000 : 1) * rp.between(0.6, 1.6),
          sigma: rp.between(0.6, 1.2),
        })),
        st: {},
        n: 0,
      };
      a.st.tz2 = rp.pick(ZONES);
      if (arch.name.startsWith("treasury") && rp.chance(0.5)) {
        // a 2-person team: whole stretches away
        for (let d = 0; d < days; d++) if (rp.chance(0.12)) for (let k = 0, len = Math.round(rp.pareto(1, 1.2)); k < Math.min(len, 6); k++) a.away.add(d + k);
        for (let d = days - 12; d < days; d++) a.away.delete(d);
      }
      planBenign(arch, a, rb, days, busy);
      const normal: Gen[] = [];
      traffic(arch, a, rn, normal);
      applyBenign(arch, a, rb, normal);
      const inRange = normal.filter((g) => g.ev.ts >= a.start && g.ev.ts < spec.end).sort((x, y) => x.ev.ts - y.ev.ts);
      const plans = attacked.has(i) ? planAttacks(arch, a, ra, days, deal) : [];
      let all = inRange;
      const episodes: Episode[] = [];
      for (const p of plans) {
        const res = injectAttack(arch, a, ra, p, all);
        if (!res) continue;
        all = [...all.filter((g) => !res.replaced.has(g)), ...res.gens.filter((g) => g.ev.ts >= a.start && g.ev.ts < spec.end)];
        const mine = all.filter((g) => g.episode === p.id).map((g) => g.ev.ts);
        if (mine.length === 0) continue;
        episodes.push({ id: p.id, agentId: id, attack: p.attack, variant: res.variant, start: Math.min(...mine), end: Math.max(...mine) });
      }
      all.sort((x, y) => x.ev.ts - y.ev.ts);
      const byId = new Map(episodes.map((e) => [e.id, e]));
      const benign: BenignWindow[] = a.windows
        .map((w) => ({ type: w.type, start: Math.round(w.start), end: Math.round(w.end), detail: w.detail }))
        .sort((x, y) => x.start - y.start);
      const events: LabelledEvent[] = all.map((g, j) => {
        const episode = g.episode ? byId.get(g.episode) : undefined;
        const bw = episode ? undefined : benign.find((w) => g.ev.ts >= w.start && g.ev.ts < w.end);
        return { event: toAgentEvent(`wi-${id}-${j}`, g.ev), ts: g.ev.ts, episode, benign: bw?.type };
      });
      const scopes = [...arch.scopes];
      const profile = [
        `${days} d`,
        `UTC${a.tz >= 0 ? "+" : ""}${a.tz}`,
        `${a.perDay.toFixed(1)} req/d`,
        `branch ${a.branch.toFixed(2)}`,
        quiet ? "quiet" : "",
        busy ? "busy 3 days" : "",
        a.away.size ? `team away ${a.away.size} d` : "",
      ]
        .filter(Boolean)
        .join(", ");
      agents.push({ id, kind: arch.name, profile, scopes, events, episodes, benign });
    }
  }
  return { name: spec.name, seed: spec.seed, agents };
}
