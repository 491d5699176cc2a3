import type { AttackType } from "../types.ts";
import { DAY, type Gen, HOUR, local, MIN, type Profile } from "./model.ts";
import type { Rng } from "./random.ts";

export interface AttackCtx {
  r: Rng;
  p: Profile;
  normal: Gen[];
  /** Window the episode starts in. */
  lo: number;
  hi: number;
  episode: string;
  /** How many episodes of this family were dealt before: alternates the intensity. */
  nth: number;
}

export interface AttackOut {
  gens: Gen[];
  variant: string;
  /** Events relabelled in the normal stream instead of injected (drifts). */
  inPlace?: boolean;
}

const tag = (gens: Gen[], episode: string): Gen[] => gens.map((g) => ({ ...g, episode, benign: undefined }));
const topAt = (p: Profile, t: number) => (p.topAt ? p.topAt(t) : p.top);

/** Hour of the week (local) with the fewest normal events; its count. */
function quietestHour(p: Profile, normal: Gen[]): { how: number; n: number } {
  const n = new Array<number>(168).fill(0);
  for (const g of normal) {
    const l = local(p.zone, g.ev.ts);
    n[l.dow * 24 + Math.floor(l.h)]!++;
  }
  let best = 0;
  for (let i = 1; i < 168; i++) if (n[i]! < n[best]!) best = i;
  return { how: best, n: n[best]! };
}

export function applicable(p: Profile, normal: Gen[], a: AttackType): boolean {
  if (a === "amount_spike" || a === "drift_amount") return p.money !== undefined;
  if (a === "exfiltration") return p.volume !== undefined;
  if (a === "odd_hours") return quietestHour(p, normal).n === 0;
  return true;
}

type Make = (c: AttackCtx) => AttackOut;

export const ATTACKS: Record<AttackType, Make> = {
  rate_burst: ({ r, p, normal, lo, hi, episode, nth }) => {
    const t = r.between(lo, hi);
    const top = topAt(p, t)[0]!;
    if (nth % 2 === 0) {
      const n = r.int(200, 1200);
      const dur = r.between(5, 30) * MIN;
      const enumerate = r.chance(0.5);
      const gens: Gen[] = [];
      for (let i = 0; i < n; i++)
        gens.push({
          ev: {
            ts: Math.round(t + (dur * i) / n),
            type: top.type,
            action: top.action,
            resource: enumerate ? `enum:${i}` : top.resource(r),
            outcome: "success",
            latencyMs: r.int(20, 200),
          },
        });
      return { gens: tag(gens, episode), variant: `fast ${n}× ${top.action} in ${(dur / MIN).toFixed(0)} min${enumerate ? ", enumerating" : ""}` };
    }
    const active = new Set(normal.filter((g) => g.ev.action === top.action).map((g) => Math.floor(g.ev.ts / HOUR))).size || 1;
    const perHour = normal.filter((g) => g.ev.action === top.action).length / active;
    const n = Math.max(20, Math.round(3 * perHour));
    const gens: Gen[] = [];
    for (let i = 0; i < n; i++)
      gens.push({
        ev: {
          ts: Math.round(t + r.next() * HOUR),
          type: top.type,
          action: top.action,
          resource: top.resource(r),
          outcome: "success",
          latencyMs: r.int(50, 400),
        },
      });
    return { gens: tag(gens, episode), variant: `subtle ${n}× ${top.action} over 60 min (3× its ${perHour.toFixed(1)}/active hour)` };
  },
  amount_spike: ({ r, p, lo, hi, episode, nth }) => {
    const m = p.money!;
    const subtle = nth % 3 === 2;
    const n = r.int(1, 3);
    const f = subtle ? r.between(5, 8) : r.between(20, 300);
    const gens: Gen[] = [];
    let t = r.between(lo, hi);
    for (let i = 0; i < n; i++) {
      const task = p.moneyTask!(r, t, m.median * f * r.between(0.9, 1.1));
      gens.push(...task.filter((g) => g.ev.action === m.action).slice(0, 1));
      t += r.between(2, 40) * MIN;
    }
    return { gens: tag(gens, episode), variant: `${subtle ? "subtle" : "spike"} ${n}× ${m.action} at ${f.toFixed(0)}× median` };
  },
  dormant_tool: ({ r, p, lo, hi, episode, nth }) => {
    const tool = p.dormant[nth % 2]!;
    const n = r.int(3, 20);
    const spread = nth % 2 === 0 ? 10 * MIN : 2 * HOUR;
    const t = r.between(lo, hi);
    const res = topAt(p, t)[0]!.resource;
    const gens: Gen[] = Array.from({ length: n }, () => ({
      ev: {
        ts: Math.round(t + r.next() * spread),
        type: "tool_call" as const,
        action: tool,
        resource: res(r),
        outcome: "success" as const,
        latencyMs: r.int(50, 900),
      },
    }));
    return { gens: tag(gens, episode), variant: `${n}× ${tool} ${nth % 2 === 0 ? "in 10 min" : "over 2 h"}` };
  },
  out_of_scope: ({ r, p, lo, hi, episode }) => {
    const acts = r.shuffle(p.foreign).slice(0, r.int(1, 2));
    const n = r.int(3, 15);
    const t = r.between(lo, hi);
    const dur = r.between(5, 30) * MIN;
    const gens: Gen[] = Array.from({ length: n }, () => ({
      ev: {
        ts: Math.round(t + r.next() * dur),
        type: "api_request" as const,
        action: r.pick(acts),
        resource: `ext:${r.int(1, 50)}`,
        outcome: "success" as const,
        latencyMs: r.int(80, 900),
      },
    }));
    return { gens: tag(gens, episode), variant: `${n}× ${acts.join("/")}` };
  },
  exfiltration: ({ r, p, lo, hi, episode, nth }) => {
    const v = p.volume!;
    const t = r.between(lo, hi);
    const gens: Gen[] = [];
    if (nth % 2 === 0) {
      const n = r.int(2, 6);
      const f = r.between(30, 300);
      for (let i = 0; i < n; i++)
        gens.push({
          ev: {
            ts: Math.round(t + i * r.between(20, 300) * 1000),
            type: v.type,
            action: v.action,
            resource: topAt(p, t)[0]!.resource(r),
            outcome: "success",
            latencyMs: r.int(500, 20000),
            attributes: { [v.key]: Math.round(v.median * f * r.between(0.8, 1.2)) },
          },
        });
      return { gens: tag(gens, episode), variant: `bulk ${n}× ${v.action} at ${f.toFixed(0)}× median ${v.key}` };
    }
    const n = r.int(20, 60);
    const dur = r.between(2, 5) * HOUR;
    const f = r.between(3, 10);
    for (let i = 0; i < n; i++)
      gens.push({
        ev: {
          ts: Math.round(t + r.next() * dur),
          type: v.type,
          action: v.action,
          resource: `x:${i}-${r.int(0, 1e6)}`,
          outcome: "success",
          latencyMs: r.int(200, 5000),
          attributes: { [v.key]: Math.round(v.median * f * r.between(0.7, 1.3)) },
        },
      });
    return {
      gens: tag(gens, episode),
      variant: `slow ${n}× ${v.action} of fresh resources over ${(dur / HOUR).toFixed(1)} h at ${f.toFixed(1)}× median ${v.key}`,
    };
  },
  error_storm: ({ r, p, lo, hi, episode, nth }) => {
    const t = r.between(lo, hi);
    const n = r.int(10, 80);
    const outcome = nth % 2 === 0 ? "denied" : "error";
    const dur = r.between(10, 60) * MIN;
    const top = topAt(p, t);
    const gens: Gen[] = Array.from({ length: n }, () => {
      const a = r.pick(top);
      return { ev: { ts: Math.round(t + r.next() * dur), type: a.type, action: a.action, resource: a.resource(r), outcome, latencyMs: r.int(5, 3000) } };
    });
    return { gens: tag(gens, episode), variant: `${n}× ${outcome} over ${top.map((x) => x.action).join("/")} in ${(dur / MIN).toFixed(0)} min` };
  },
  odd_hours: ({ r, p, normal, lo, hi, episode }) => {
    const { how } = quietestHour(p, normal);
    let t = lo;
    while (t < hi) {
      const l = local(p.zone, t);
      if (l.dow * 24 + Math.floor(l.h) === how) break;
      t += 10 * MIN;
    }
    const n = r.int(1, 3);
    const gens: Gen[] = [];
    for (let i = 0; i < n; i++) gens.push(...p.task(r, t + r.next() * 40 * MIN));
    return { gens: tag(gens, episode), variant: `${n} ordinary task(s) at ${new Date(t).toISOString().slice(0, 13)}Z, an hour of the week with no history` };
  },
  impossible_sequence: ({ r, p, lo, hi, episode, nth }) => {
    const n = nth % 2 === 0 ? 1 : r.int(2, 4);
    const gens: Gen[] = [];
    let what = "";
    let t = r.between(lo, hi);
    for (let i = 0; i < n; i++) {
      const x = p.impossible(r, t);
      gens.push(...x.gens);
      what = x.what;
      t += r.between(5, 90) * MIN;
    }
    return { gens: tag(gens, episode), variant: `${n}× ${what}` };
  },
  tool_discovery: ({ r, p, lo, hi, episode }) => {
    const tools = r.shuffle(p.unused).slice(0, r.int(4, 7));
    const t = r.between(lo, hi);
    const dur = r.between(10, 40) * MIN;
    const gens: Gen[] = [];
    for (const tool of tools)
      for (let k = r.int(1, 3); k > 0; k--)
        gens.push({
          ev: {
            ts: Math.round(t + r.next() * dur),
            type: "tool_call",
            action: tool,
            resource: topAt(p, t)[0]!.resource(r),
            outcome: r.chance(0.3) ? "denied" : "success",
            latencyMs: r.int(50, 900),
          },
        });
    return { gens: tag(gens, episode), variant: `${tools.length} first-time in-scope tools in ${(dur / MIN).toFixed(0)} min` };
  },
  drift_amount: ({ r, p, normal, lo, episode }) => {
    const m = p.money!;
    const days = r.between(5, 8);
    const top = r.between(3, 10);
    const end = lo + days * DAY;
    const gens: Gen[] = [];
    for (const g of normal) {
      if (g.ev.action !== m.action || g.ev.amount === undefined || g.ev.ts < lo || g.ev.ts >= end) continue;
      g.ev = { ...g.ev, amount: Math.round(g.ev.amount * (1 + ((top - 1) * (g.ev.ts - lo)) / (end - lo)) * 100) / 100 };
      g.episode = episode;
      g.benign = undefined;
      gens.push(g);
    }
    return { gens, variant: `${m.action} amounts creeping to ${top.toFixed(1)}× over ${days.toFixed(0)} days`, inPlace: true };
  },
  drift_mix: ({ r, p, normal, lo, episode }) => {
    const days = r.between(5, 8);
    const share = r.between(0.2, 0.4);
    const end = lo + days * DAY;
    const gens: Gen[] = [];
    for (const g of normal) {
      if (g.ev.ts < lo || g.ev.ts >= end || g.episode) continue;
      const s = 0.01 + (share - 0.01) * ((g.ev.ts - lo) / (end - lo));
      if (!r.chance(s / (1 - s))) continue;
      const rare = p.rareAt ? p.rareAt(g.ev.ts) : p.rare;
      const money = rare.type === "transaction" && p.money ? { amount: Math.round(r.between(0.3, 2) * p.money.median), currency: p.money.currency } : {};
      gens.push({
        ev: {
          ts: g.ev.ts + r.int(500, 20000),
          type: rare.type,
          action: rare.action,
          resource: g.ev.resource,
          outcome: "success",
          latencyMs: r.int(50, 900),
          ...money,
        },
        episode,
      });
    }
    const rare = p.rareAt ? p.rareAt(lo) : p.rare;
    return { gens, variant: `${rare.action} creeping to ${(share * 100).toFixed(0)} % of calls over ${days.toFixed(0)} days` };
  },
};
