import type { AttackType } from "../types.ts";
import { DAY, type Drawn, ev, type Gen, gap, H, latency, localDay, localHour, localToUtc, type Profile } from "./model.ts";
import type { Rng } from "./random.ts";

export interface AttackCtx {
  r: Rng;
  d: Drawn;
  /** Earliest start (UTC ms) and the latest end. */
  lo: number;
  hi: number;
  episode: string;
}
export type Attack = (c: AttackCtx) => { variant: string; gens: Gen[] };

export function applicable(d: Drawn, t: AttackType): boolean {
  const p = d.p;
  if (t === "amount_spike" || t === "drift_amount") return p.money !== undefined;
  if (t === "exfiltration") return p.volume !== undefined;
  if (t === "odd_hours") return p.kind !== "document-intake-ocr";
  return true;
}

/** A random time inside the agent's normal local hours on a day at or after `ts`. */
function workTime(r: Rng, p: Profile, ts: number): number {
  const d = localDay(p, ts);
  for (let k = 0; k < 7; k++) {
    const dd = d + k;
    const w = new Date(dd * DAY).getUTCDay();
    if (w === 0 || w === 6) continue;
    const t = localToUtc(p, dd, r.between(p.hours[0], p.hours[1]));
    if (t >= ts) return t;
  }
  return ts + H;
}

/** A copy of a random normal event (in the window if possible) as template for injected traffic. */
function template(r: Rng, d: Drawn, lo: number): Gen {
  const near = d.normal.filter((g) => g.ev.ts >= lo - 7 * DAY && g.ev.ts < lo + 7 * DAY);
  return r.pick(near.length > 20 ? near : d.normal);
}

const copy = (g: Gen, ts: number, episode: string, extra: Partial<Gen["ev"]> = {}): Gen => ({ ev: { ...g.ev, ts: Math.round(ts), ...extra }, episode });

function dailyCount(d: Drawn): number {
  const span = Math.max(1, (d.p.end - d.p.start) / DAY);
  return d.normal.length / span;
}

export const ATTACKS: Record<AttackType, Attack> = {
  rate_burst: ({ r, d, lo, episode }) => {
    const gens: Gen[] = [];
    const subtle = r.chance(0.4);
    const per = dailyCount(d);
    const n = subtle ? Math.round(Math.max(30, per * r.between(2, 3))) : Math.round(Math.max(300, per * r.between(6, 15)));
    const mins = subtle ? r.between(300, 540) : r.between(15, 60);
    let t = workTime(r, d.p, lo);
    const step = (mins * 60_000) / n;
    for (let k = 0; k < n; k++) {
      t += step * r.between(0.3, 1.7);
      gens.push(copy(template(r, d, lo), t, episode, { outcome: "success" }));
    }
    return { variant: `${subtle ? "subtle" : "fast"} ${n} events in ${Math.round(mins)} min`, gens };
  },
  amount_spike: ({ r, d, lo, episode }) => {
    const m = d.p.money!;
    const subtle = r.chance(0.4);
    const n = subtle ? 1 : r.int(2, 4);
    const f = subtle ? r.between(5, 8) : r.between(20, 150);
    const gens: Gen[] = [];
    const src = d.normal.filter((g) => g.ev.action === m.tool.action);
    for (let k = 0; k < n; k++) {
      const t = workTime(r, d.p, lo + k * r.between(0, 3) * H);
      const g = r.pick(src);
      gens.push(copy(g, t, episode, { amount: Math.round(m.median * f * r.between(0.9, 1.1)), outcome: "success" }));
    }
    return { variant: `${subtle ? "subtle" : "strong"} ${n}x ${f.toFixed(0)}x median`, gens };
  },
  dormant_tool: ({ r, d, lo, episode }) => {
    const subtle = r.chance(0.4);
    const n = subtle ? r.int(2, 4) : r.int(15, 40);
    const gens: Gen[] = [];
    let t = workTime(r, d.p, lo);
    for (let k = 0; k < n; k++) {
      const tool = r.pick(d.p.dormant);
      const tpl = template(r, d, lo);
      gens.push({
        ev: ev(t, tool, "success", {
          resource: tpl.ev.resource,
          amount: tool.type === "transaction" ? tpl.ev.amount : undefined,
          currency: tool.type === "transaction" ? tpl.ev.currency : undefined,
          latencyMs: latency(r, 250),
        }),
        episode,
      });
      t += subtle ? r.between(0.5, 3) * H : gap(r, 10, 1.3, 900);
    }
    return { variant: `${subtle ? "subtle" : "strong"} ${n} calls of ${d.p.dormant.map((x) => x.action).join("/")}`, gens };
  },
  out_of_scope: ({ r, d, lo, episode }) => {
    const subtle = r.chance(0.4);
    const n = subtle ? r.int(1, 3) : r.int(10, 30);
    const gens: Gen[] = [];
    let t = workTime(r, d.p, lo);
    for (let k = 0; k < n; k++) {
      const tool = r.pick(d.p.foreign);
      gens.push({
        ev: ev(t, tool, r.chance(0.3) ? "denied" : "success", {
          resource: `ext:${r.int(1, 50)}`,
          amount: tool.type === "transaction" ? Math.round(r.logNormal(50_000, 1)) : undefined,
          currency: tool.type === "transaction" ? "USD" : undefined,
          latencyMs: latency(r, 200),
        }),
        episode,
      });
      t += gap(r, 20, 1.2, 3600);
    }
    return { variant: `${subtle ? "subtle" : "strong"} ${n} foreign calls`, gens };
  },
  exfiltration: ({ r, d, lo, episode }) => {
    const v = d.p.volume!;
    const slow = r.chance(0.5);
    const gens: Gen[] = [];
    const keyed = (val: number): Record<string, number> =>
      v.key === "pages" ? { pages: Math.round(val), sizeBytes: Math.round(val * 190_000) } : { [v.key]: Math.round(val) };
    if (!slow) {
      const n = r.int(4, 20);
      const f = r.between(40, 300);
      let t = workTime(r, d.p, lo);
      for (let k = 0; k < n; k++) {
        gens.push({
          ev: ev(t, v.tool, "success", { resource: v.resource(r), latencyMs: latency(r, 4000), attributes: keyed(v.median * f * r.between(0.8, 1.2)) }),
          episode,
        });
        t += gap(r, 30, 1.3, 900);
      }
      return { variant: `bulk ${n} x ${f.toFixed(0)}x median ${v.key}`, gens };
    }
    const days = r.int(4, 8);
    const per = r.int(3, 8);
    const f = r.between(2, 5);
    for (let dd = 0; dd < days; dd++)
      for (let k = 0; k < per; k++)
        gens.push({
          ev: ev(workTime(r, d.p, lo + dd * DAY), v.tool, "success", {
            resource: v.resource(r),
            latencyMs: latency(r, 1500),
            attributes: keyed(v.median * f * r.between(0.8, 1.2)),
          }),
          episode,
        });
    return { variant: `slow ${days} d x ${per}/d at ${f.toFixed(1)}x median ${v.key}`, gens };
  },
  error_storm: ({ r, d, lo, episode }) => {
    const subtle = r.chance(0.4);
    const n = subtle ? r.int(20, 40) : r.int(80, 400);
    const mins = subtle ? r.between(240, 480) : r.between(20, 90);
    const gens: Gen[] = [];
    let t = workTime(r, d.p, lo);
    for (let k = 0; k < n; k++) {
      t += ((mins * 60_000) / n) * r.between(0.2, 1.8);
      gens.push(copy(template(r, d, lo), t, episode, { outcome: r.chance(subtle ? 0.7 : 0.92) ? "error" : "success", latencyMs: latency(r, 8000) }));
    }
    return { variant: `${subtle ? "subtle" : "storm"} ${n} events over ${Math.round(mins)} min`, gens };
  },
  odd_hours: ({ r, d, lo, episode }) => {
    const subtle = r.chance(0.4);
    const n = subtle ? r.int(4, 10) : r.int(25, 90);
    const gens: Gen[] = [];
    const day = localDay(d.p, lo) + 1;
    let t = localToUtc(d.p, day, r.between(1.5, 3));
    for (let k = 0; k < n; k++) {
      gens.push(copy(template(r, d, lo), t, episode, { outcome: "success" }));
      t += gap(r, 20, 1.3, subtle ? 1500 : 300);
      if (localHour(d.p, t) > 4.8) t -= 30 * 60_000;
    }
    return { variant: `${subtle ? "few" : "many"} ${n} events 01:30–05 local`, gens };
  },
  impossible_sequence: ({ r, d, lo, episode }) => {
    const subtle = r.chance(0.4);
    const n = subtle ? r.int(2, 4) : r.int(10, 30);
    const gens: Gen[] = [];
    for (let k = 0; k < n; k++)
      gens.push({ ev: d.p.orphan(r, workTime(r, d.p, lo + (subtle ? k * r.between(2, 20) * H : k * r.between(1, 6) * 60_000))), episode });
    return { variant: `${subtle ? "few" : "many"} ${n} orphan ${gens[0]!.ev.action}`, gens };
  },
  tool_discovery: ({ r, d, lo, episode }) => {
    const subtle = r.chance(0.4);
    const prefix = d.p.tools[0]!.action.split(".")[0]!;
    const verbs = [
      "list",
      "describe",
      "debug",
      "admin",
      "config.read",
      "export",
      "schema",
      "users",
      "keys",
      "override",
      "bulk",
      "internal",
      "raw",
      "dump",
      "health",
      "version",
      "audit.read",
      "token.mint",
      "sudo",
      "replay",
      "backfill",
      "flags",
      "env",
      "secrets",
    ];
    const k = subtle ? r.int(4, 7) : r.int(12, verbs.length);
    const names = r
      .shuffle([...verbs])
      .slice(0, k)
      .map((v, j) => (j % 3 === 2 ? `admin.${v}` : `${prefix}.${v}`));
    const gens: Gen[] = [];
    let t = workTime(r, d.p, lo);
    for (const a of names)
      for (let z = r.int(1, 3); z > 0; z--) {
        gens.push({
          ev: ev(t, { action: a, type: r.pick(["api_request", "tool_call"] as const) }, r.pick(["denied", "error", "success", "denied"] as const), {
            latencyMs: latency(r, 90),
          }),
          episode,
        });
        t += gap(r, 3, 1.3, subtle ? 1800 : 120);
      }
    return { variant: `${subtle ? "subtle" : "sweep"} ${k} new action names`, gens };
  },
  drift_amount: ({ r, d, lo, hi, episode }) => {
    const m = d.p.money!;
    const len = Math.min(hi - lo, r.int(10, 16) * DAY);
    const final = r.between(2.5, 6);
    const gens: Gen[] = [];
    for (const g of d.normal)
      if (g.ev.action === m.tool.action && g.ev.ts >= lo && g.ev.ts < lo + len && g.ev.amount !== undefined) {
        g.ev.amount = Math.round(g.ev.amount * (1 + (final - 1) * ((g.ev.ts - lo) / len)));
        g.episode = episode;
        g.benign = undefined;
        gens.push(g);
      }
    return { variant: `amounts ramp to ${final.toFixed(1)}x over ${Math.round(len / DAY)} d`, gens };
  },
  drift_mix: ({ r, d, lo, hi, episode }) => {
    const len = Math.min(hi - lo, r.int(10, 16) * DAY);
    const counts = new Map<string, number>();
    for (const g of d.normal) counts.set(g.ev.action, (counts.get(g.ev.action) ?? 0) + 1);
    const rare = [...counts].filter(([a]) => d.p.tools.some((t) => t.action === a)).sort((x, y) => x[1] - y[1])[0]![0];
    const src = d.normal.filter((g) => g.ev.action === rare);
    const final = r.between(0.4, 0.7);
    const gens: Gen[] = [];
    const per = dailyCount(d);
    for (let t = lo; t < lo + len; t += DAY) {
      const share = final * ((t - lo) / len);
      const n = r.poisson((per * share) / (1 - share));
      for (let k = 0; k < n; k++) gens.push(copy(r.pick(src), workTime(r, d.p, t), episode, { outcome: "success" }));
    }
    return { variant: `${rare} share ramps to ${(final * 100).toFixed(0)}% over ${Math.round(len / DAY)} d`, gens };
  },
};
