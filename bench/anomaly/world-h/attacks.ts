import type { SimEvent } from "../sim-event.ts";
import type { AttackType } from "../types.ts";
import type { Arch } from "./archetypes.ts";
import { atLocal, type Ctx, type Day, DAY, drawHour, type Gen, HOUR, localHour } from "./model.ts";
import type { Rng } from "./rng.ts";

/** What an attack sees: the agent, its normal traffic (sorted), its calendar and its own stream. */
export interface AttackIn {
  ra: Rng;
  c: Ctx;
  arch: Arch;
  days: readonly Day[];
  normal: Gen[];
  episode: string;
  /** First day number the attack may start on. */
  from: number;
  subtle: boolean;
}

export interface AttackOut {
  variant: string;
  /** Injected events; drift attacks relabel the agent's own events instead. */
  gens: Gen[];
  /** Last day number used (the next episode starts ≥ 2 days later). */
  lastDay: number;
}

/** How many days the attack needs from its first day (to decide whether it fits). */
export const SPAN: Partial<Record<AttackType, number>> = { drift_amount: 16, drift_mix: 16, exfiltration: 6 };

/** Local-hour histogram of the agent's normal events. */
const hists = new WeakMap<AttackIn, number[]>();
function hourHist(a: AttackIn): number[] {
  const memo = hists.get(a);
  if (memo) return memo;
  const h = Array.from({ length: 24 }, () => 0);
  for (const g of a.normal) h[Math.floor(localHour(a.c.zone, g.ev.ts)) % 24]!++;
  hists.set(a, h);
  return h;
}

/** A day at or after `from` with room for `span` days, with traffic on it (weekdays for weekday agents). */
function pickDay(a: AttackIn, span: number): Day | undefined {
  const last = a.days.length - 1 - span;
  const ok = a.days.filter((d) => d.n >= a.from && d.n <= last && !d.holiday && (a.arch.weekendSilent ? d.dow >= 1 && d.dow <= 5 : d.dow !== 0));
  return ok.length ? a.ra.pick(ok.slice(0, Math.max(1, Math.ceil(ok.length * 0.7)))) : undefined;
}

const clone = (g: Gen, ts: number, episode: string, patch: Partial<SimEvent> = {}): Gen => ({
  ev: { ...g.ev, ...(g.ev.attributes ? { attributes: { ...g.ev.attributes } } : {}), outcome: "success", ...patch, ts: Math.round(ts) },
  episode,
});

/** Templates: the agent's own earlier successful events (so the mix of actions, resources and attributes is its own). */
function templates(a: AttackIn, before: number, pred: (g: Gen) => boolean = () => true): Gen[] {
  const xs = a.normal.filter((g) => g.ev.ts < before && g.ev.outcome === "success" && !g.episode && pred(g));
  return xs.length ? xs : a.normal.filter((g) => !g.episode && pred(g));
}

/** Mean events per active local hour (hours with at least one event). */
function hourlyRate(a: AttackIn): number {
  const buckets = new Set<number>();
  for (const g of a.normal) buckets.add(Math.floor(g.ev.ts / HOUR));
  return a.normal.length / Math.max(1, buckets.size);
}

/** n times spread in [s, s + len), sorted. */
const spread = (r: Rng, s: number, len: number, n: number): number[] => Array.from({ length: n }, () => s + r.next() * len).sort((x, y) => x - y);

/** A start time in the agent's busy local hours on a day. */
const busyTime = (a: AttackIn, d: Day): number => atLocal(a.c.zone, d, drawHour(a.ra, hourHist(a)));

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)] ?? 1;
};

const ns = (arch: Arch): string => arch.actions[0]!.split(".")[0]!;

type Impl = (a: AttackIn) => AttackOut | undefined;

const rateBurst: Impl = (a) => {
  const d = pickDay(a, 0);
  if (!d) return undefined;
  const s = busyTime(a, d);
  const tpl = templates(a, s);
  const base = hourlyRate(a);
  let n: number;
  let len: number;
  let variant: string;
  if (a.subtle) {
    const k = a.ra.uniform(2, 3.2);
    const hours = a.ra.uniform(2, 4);
    n = Math.max(8, Math.round(base * (k - 1) * hours));
    len = hours * HOUR;
    variant = `subtle mimic: +${(k - 1).toFixed(1)}× the usual rate for ${hours.toFixed(1)} h (${n} ev)`;
  } else {
    n = a.ra.int(250, 650);
    len = a.ra.uniform(15, 40) * 60_000;
    variant = `loud mimic: ${n} ev in ${(len / 60_000).toFixed(0)} min (usual ${base.toFixed(0)}/h)`;
  }
  return { variant, gens: spread(a.ra, s, len, n).map((t) => clone(a.ra.pick(tpl), t, a.episode)), lastDay: d.n };
};

const amountSpike: Impl = (a) => {
  const d = pickDay(a, 0);
  if (!d || a.arch.amountActions.length === 0) return undefined;
  const s = busyTime(a, d);
  const tpl = templates(a, s, (g) => g.ev.amount !== undefined);
  if (tpl.length === 0) return undefined;
  const med = median(tpl.map((g) => g.ev.amount!));
  const k = a.subtle ? a.ra.uniform(4, 8) : a.ra.uniform(20, 60);
  const n = a.subtle ? a.ra.int(2, 4) : a.ra.int(3, 8);
  const gens = spread(a.ra, s, a.ra.uniform(1, 3) * HOUR, n).map((t) =>
    clone(a.ra.pick(tpl), t, a.episode, { amount: Math.round(med * k * a.ra.uniform(0.85, 1.15) * 100) / 100 }),
  );
  return { variant: `${a.subtle ? "subtle" : "loud"} mimic: ${n} × ${k.toFixed(0)}× median amount`, gens, lastDay: d.n };
};

const PROBES = [
  "admin.users.list",
  "iam.role.describe",
  "secrets.list",
  "db.query",
  "shell.exec",
  "storage.bucket.list",
  "audit.log.read",
  "config.dump",
  "token.mint",
  "network.scan",
  "email.send_bulk",
  "ledger.export",
  "webhook.create",
  "user.impersonate",
  "backup.download",
  "queue.purge",
];

const toolDiscovery: Impl = (a) => {
  const d = pickDay(a, 0);
  if (!d) return undefined;
  const s = busyTime(a, d);
  const tpl = templates(a, s);
  const own = ns(a.arch);
  const names = a.ra.shuffle([...PROBES, `${own}.export`, `${own}.bulk_update`, `${own}.debug`, `${own}.admin`]);
  const k = a.subtle ? a.ra.int(4, 6) : a.ra.int(12, 20);
  const tools = names.slice(0, k);
  const gens: Gen[] = [];
  const len = a.subtle ? a.ra.uniform(5, 9) * HOUR : a.ra.uniform(20, 40) * 60_000;
  const times = spread(a.ra, s, len, a.subtle ? k : k * 2);
  for (const [i, t] of times.entries()) {
    const g = a.ra.pick(tpl);
    const outcome = a.subtle
      ? a.ra.chance(0.8)
        ? "success"
        : "denied"
      : a.ra.weighted([
          ["denied", 0.6],
          ["error", 0.2],
          ["success", 0.2],
        ] as const);
    gens.push(clone(g, t, a.episode, { action: tools[i % k]!, type: "tool_call", outcome, amount: undefined, currency: undefined, attributes: undefined }));
  }
  return { variant: `${a.subtle ? "subtle" : "loud"}: ${k} unseen tools over ${(len / 60_000).toFixed(0)} min`, gens, lastDay: d.n };
};

const outOfScope: Impl = (a) => {
  const d = pickDay(a, 0);
  if (!d) return undefined;
  const s = busyTime(a, d);
  const tpl = templates(a, s);
  const action = a.ra.pick(a.arch.foreign);
  const n = a.subtle ? a.ra.int(2, 4) : a.ra.int(20, 60);
  const len = a.subtle ? a.ra.uniform(3, 7) * HOUR : a.ra.uniform(30, 90) * 60_000;
  const gens = spread(a.ra, s, len, n).map((t) => clone(a.ra.pick(tpl), t, a.episode, { action }));
  return { variant: `${a.subtle ? "subtle" : "loud"} mimic: ${n} × ${action}`, gens, lastDay: d.n };
};

const exfiltration: Impl = (a) => {
  const v = a.arch.volume;
  if (!v) return undefined;
  const slow = a.subtle;
  const d = pickDay(a, slow ? 6 : 0);
  if (!d) return undefined;
  const tpl = templates(a, busyTime(a, d), (g) => g.ev.action === v.action);
  if (tpl.length === 0) return undefined;
  const med = median(tpl.map((g) => Number(g.ev.attributes?.[v.key] ?? 1)));
  const gens: Gen[] = [];
  const vol = (k: number) => (g: Gen) => ({ attributes: { ...g.ev.attributes, [v.key]: Math.round(med * k * a.ra.uniform(0.7, 1.3)) } });
  if (slow) {
    const nd = a.ra.int(3, 6);
    const k = a.ra.uniform(2.5, 5);
    const per = a.ra.int(8, 25);
    const list = a.days.filter((x) => x.n >= d.n && x.n < d.n + nd);
    for (const day of list)
      for (let i = 0; i < per; i++) {
        const g = a.ra.pick(tpl);
        gens.push(clone(g, busyTime(a, day), a.episode, vol(k)(g)));
      }
    return { variant: `slow mimic: ${nd} d × ${per} extra ${v.action} at ${k.toFixed(1)}× median ${v.key}`, gens, lastDay: d.n + nd };
  }
  const n = a.ra.int(40, 140);
  const k = a.ra.uniform(10, 40);
  const s = busyTime(a, d);
  for (const t of spread(a.ra, s, a.ra.uniform(1, 2) * HOUR, n)) {
    const g = a.ra.pick(tpl);
    gens.push(clone(g, t, a.episode, vol(k)(g)));
  }
  return { variant: `bulk mimic: ${n} ${v.action} at ${k.toFixed(0)}× median ${v.key}`, gens, lastDay: d.n };
};

const errorStorm: Impl = (a) => {
  const d = pickDay(a, 0);
  if (!d) return undefined;
  const s = busyTime(a, d);
  const tpl = templates(a, s);
  const base = hourlyRate(a);
  if (a.subtle) {
    const hours = a.ra.uniform(2, 4);
    const frac = a.ra.uniform(0.4, 0.6);
    const n = Math.max(8, Math.round(base * a.ra.uniform(0.8, 1.3) * hours));
    const gens = spread(a.ra, s, hours * HOUR, n).map((t) => clone(a.ra.pick(tpl), t, a.episode, { outcome: a.ra.chance(frac) ? "error" : "success" }));
    return { variant: `subtle mimic: ${n} ev over ${hours.toFixed(1)} h, ${(frac * 100).toFixed(0)} % errors`, gens, lastDay: d.n };
  }
  const n = a.ra.int(120, 350);
  const len = a.ra.uniform(30, 60) * 60_000;
  const gens = spread(a.ra, s, len, n).map((t) => clone(a.ra.pick(tpl), t, a.episode, { outcome: a.ra.chance(0.92) ? "error" : "success" }));
  return { variant: `loud mimic: ${n} ev in ${(len / 60_000).toFixed(0)} min, 92 % errors`, gens, lastDay: d.n };
};

const oddHours: Impl = (a) => {
  if (a.arch.allDay) return undefined;
  const hist = hourHist(a);
  const max = Math.max(...hist);
  const dead = hist
    .map((x, h) => [h, x] as const)
    .filter(([, x]) => x <= max * 0.003)
    .map(([h]) => h);
  const weekend = a.arch.weekendSilent && a.subtle && a.ra.chance(0.5);
  if (dead.length < 2 && !weekend) return undefined;
  const d = pickDay(a, 0);
  if (!d) return undefined;
  const s0 = busyTime(a, d);
  const tpl = templates(a, s0);
  const n = a.subtle ? a.ra.int(5, 12) : a.ra.int(30, 80);
  if (weekend) {
    const sat = a.days.find((x) => x.n > d.n && x.dow === 6 && x.n < a.days.length - 1);
    if (!sat) return undefined;
    const s = busyTime(a, sat);
    const gens = spread(a.ra, s, 2 * HOUR, n).map((t) => clone(a.ra.pick(tpl), t, a.episode));
    return { variant: `subtle mimic: ${n} ev on a Saturday at usual hours`, gens, lastDay: sat.n };
  }
  const h = a.ra.pick(dead);
  const s = atLocal(a.c.zone, d, h);
  const gens = spread(a.ra, s, (a.subtle ? 1 : 1.5) * HOUR, n).map((t) => clone(a.ra.pick(tpl), t, a.episode));
  return { variant: `${a.subtle ? "subtle" : "loud"} mimic: ${n} ev at ${String(h).padStart(2, "0")}h local (dead hour)`, gens, lastDay: d.n };
};

/** Steps out of the agent's process order, each on a resource the process never touched. */
const SEQUENCES: Record<string, { steps: readonly string[]; prefix: string; what: string }> = {
  "sanctions-screener": { steps: ["alert.escalate"], prefix: "party:", what: "alert.escalate of a never-checked party" },
  "loan-underwriter": { steps: ["decision.record", "model.score"], prefix: "app:", what: "decision.record then model.score of an app never read" },
  "card-servicing-voicebot": { steps: ["transfer.internal"], prefix: "acct:", what: "transfer.internal on an account never looked up" },
  "ap-invoice-processor": { steps: ["erp.post"], prefix: "inv:", what: "erp.post of an invoice never ingested or matched" },
  "kyc-refresh-worker": { steps: ["case.close"], prefix: "cust:", what: "case.close of a never-fetched customer" },
};

const impossibleSequence: Impl = (a) => {
  const seq = SEQUENCES[a.arch.name];
  if (!seq) return undefined;
  const d = pickDay(a, 0);
  if (!d) return undefined;
  const s = busyTime(a, d);
  const n = a.subtle ? a.ra.int(2, 4) : a.ra.int(10, 30);
  const len = a.subtle ? a.ra.uniform(4, 8) * HOUR : a.ra.uniform(0.7, 1.5) * HOUR;
  const gens: Gen[] = [];
  for (const t of spread(a.ra, s, len, n)) {
    const res = `${seq.prefix}${(a.ra.u32() % 9_000_000) + 1_000_000}`;
    let tt = t;
    for (const step of seq.steps) {
      const tpl = templates(a, s, (g) => g.ev.action === step);
      if (tpl.length === 0) return undefined;
      gens.push(clone(a.ra.pick(tpl), tt, a.episode, { resource: res }));
      tt += a.ra.lognormal(20_000, 0.7);
    }
  }
  return { variant: `${a.subtle ? "subtle" : "loud"}: ${n} × ${seq.what}`, gens, lastDay: d.n };
};

const dormantTool: Impl = (a) => {
  const d = pickDay(a, 0);
  if (!d) return undefined;
  const s = busyTime(a, d);
  const tpl = templates(a, s);
  const action = a.ra.pick(a.arch.dormant);
  const n = a.subtle ? a.ra.int(2, 5) : a.ra.int(20, 50);
  const len = a.subtle ? a.ra.uniform(3, 8) * HOUR : a.ra.uniform(1, 2) * HOUR;
  const gens = spread(a.ra, s, len, n).map((t) => clone(a.ra.pick(tpl), t, a.episode, { action, type: a.arch.types[action] ?? "tool_call" }));
  return { variant: `${a.subtle ? "subtle" : "loud"} mimic: ${n} × in-scope never-used ${action}`, gens, lastDay: d.n };
};

/** A 10–16-day window starting on a picked day: [start, end) UTC and its length in days. */
function driftWindow(a: AttackIn): { d: Day; start: number; end: number; len: number } | undefined {
  const d = pickDay(a, 16);
  if (!d) return undefined;
  const len = a.ra.int(10, 16);
  const start = atLocal(a.c.zone, d, 0);
  return { d, start, end: start + len * DAY, len };
}

const driftAmount: Impl = (a) => {
  if (a.arch.amountActions.length === 0) return undefined;
  const w = driftWindow(a);
  if (!w) return undefined;
  const k = a.subtle ? a.ra.uniform(2, 3) : a.ra.uniform(4, 7);
  for (const g of a.normal) {
    if (g.ev.ts < w.start || g.ev.ts >= w.end || g.ev.amount === undefined || g.episode) continue;
    const p = (g.ev.ts - w.start) / (w.end - w.start);
    g.ev.amount = Math.round(g.ev.amount * (1 + (k - 1) * p) * 100) / 100;
    g.episode = a.episode;
    g.benign = undefined;
  }
  return { variant: `${a.subtle ? "subtle" : "loud"}: amounts ramp to ${k.toFixed(1)}× over ${w.len} d`, gens: [], lastDay: w.d.n + w.len };
};

const driftMix: Impl = (a) => {
  const w = driftWindow(a);
  if (!w) return undefined;
  const target = a.arch.mixTarget;
  const tpl = templates(a, w.start, (g) => g.ev.action === target);
  if (tpl.length === 0) return undefined;
  const pmax = a.subtle ? a.ra.uniform(0.2, 0.35) : a.ra.uniform(0.45, 0.7);
  for (const g of a.normal) {
    if (g.ev.ts < w.start || g.ev.ts >= w.end || g.episode || g.ev.action === target || !a.arch.actions.includes(g.ev.action) || g.ev.action === "list.refresh")
      continue;
    const p = (g.ev.ts - w.start) / (w.end - w.start);
    if (!a.ra.chance(pmax * p)) continue;
    const t = a.ra.pick(tpl).ev;
    const ev: SimEvent = { ...t, ts: g.ev.ts, resource: g.ev.resource ?? t.resource, outcome: g.ev.outcome };
    if (t.attributes) ev.attributes = { ...t.attributes };
    g.ev = ev;
    g.episode = a.episode;
    g.benign = undefined;
  }
  return {
    variant: `${a.subtle ? "subtle" : "loud"}: share of ${target} ramps up to +${(pmax * 100).toFixed(0)} % of steps over ${w.len} d`,
    gens: [],
    lastDay: w.d.n + w.len,
  };
};

export const ATTACKS: Record<AttackType, Impl> = {
  rate_burst: rateBurst,
  amount_spike: amountSpike,
  tool_discovery: toolDiscovery,
  out_of_scope: outOfScope,
  exfiltration,
  error_storm: errorStorm,
  odd_hours: oddHours,
  impossible_sequence: impossibleSequence,
  dormant_tool: dormantTool,
  drift_amount: driftAmount,
  drift_mix: driftMix,
};
