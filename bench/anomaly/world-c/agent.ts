import type { BenignType, BenignWindow } from "../types.ts";
import { weekday, type Arch } from "./arch.ts";
import { DEVOPS } from "./archetypes.ts";
import { DAY, HOUR, MIN, localClock, money, type Ev, type Labelled, type Profile } from "./model.ts";
import type { Rand } from "./random.ts";

/** Public holidays by region (local dates); support's follow-the-sun desk only loses part of a day. */
const HOLIDAYS: Record<string, { dates: string[]; factor: number }> = {
  jp: { dates: ["2026-02-23", "2026-03-20"], factor: 0.08 },
  eu: { dates: ["2026-03-17", "2026-03-19"], factor: 0.08 },
  us: { dates: ["2026-03-31"], factor: 0.08 },
  global: { dates: ["2026-03-20"], factor: 0.5 },
};

/** Tools devops agents may discover (in scope, not in anyone's working set by construction). */
const DEVOPS_DISCOVER = ["k8s.exec", "vault.write", "terraform.destroy", "db.restore", "lb.reconfigure", "dns.update", "cdn.config_update", "git.force_push"];

export interface Drawn {
  p: Profile;
  profile: string;
  normal: Labelled[];
  benign: BenignWindow[];
  /** Per-agent tool_discovery candidates (devops: the shared pool minus what this agent uses or adopts). */
  discover: string[];
}

const dayStartUtc = (p: Profile, day: number): number => day * DAY - p.tz * HOUR;

/** Draws one agent, its benign surprises and its normal history. */
export function drawAgent(r: Rand, a: Arch, id: string, end: number): Drawn {
  const region = r.pick(a.regions);
  const days = r.int(21, 35);
  const p: Profile = {
    id,
    arch: a.name,
    region: region.region,
    tz: region.tz,
    rate: 1,
    jitter: Array.from({ length: 168 }, () => r.lognormal(1, 0.25)),
    errRate: r.uniform(0.003, 0.03),
    gapXm: r.uniform(2, 20),
    gapAlpha: r.uniform(1.3, 1.8),
    amountMedian: 0,
    currency: region.currency,
    tools: [],
    unused: a.unused.map((u) => u.action),
    scopes: a.scopes,
    rare: a.rare.action,
    batchHour: 0,
    pool: [],
    start: end - days * DAY,
    end,
    dayFactor: new Map(),
    newTools: [],
  };
  a.draw(r, p);
  const shuffled = r.shuffle(a.optional);
  const nTools = r.int(a.optionalCount[0], a.optionalCount[1]);
  p.tools = shuffled.slice(0, nTools);
  let spare = shuffled.slice(nTools);
  const benign: BenignWindow[] = [];
  const win = (type: BenignType, start: number, len: number, detail: string) => benign.push({ type, start, end: start + len, detail });
  const firstDay = localClock(p, p.start).day;
  const lastDay = localClock(p, p.end).day;
  const factor = (d: number, f: number) => p.dayFactor.set(d, (p.dayFactor.get(d) ?? 1) * f);
  const workDay = (d: number) => weekday(new Date(d * DAY).getUTCDay());

  for (const date of HOLIDAYS[p.region]?.dates ?? []) {
    const d = Date.parse(date) / DAY;
    if (d < firstDay || d > lastDay) continue;
    factor(d, HOLIDAYS[p.region]!.factor);
    win("holiday_lull", dayStartUtc(p, d), DAY, `${p.region} holiday ${date}`);
  }
  if (a === DEVOPS) for (let d = firstDay; d <= lastDay; d++) factor(d, r.lognormal(1, 0.8));
  if (a.monthEnd) {
    // Month-end close: the last three working days of each month at 3×.
    for (let d = lastDay; d >= firstDay; d--) {
      const next = new Date((d + 1) * DAY);
      if (next.getUTCDate() !== 1) continue;
      let k = 0;
      for (let e = d; k < 3 && e >= firstDay; e--) {
        if (!workDay(e)) continue;
        factor(e, 3);
        win("busy_day", dayStartUtc(p, e), DAY, "month-end close 3×");
        k++;
      }
    }
  }
  if (r.chance(0.6)) {
    for (let k = r.int(1, 2); k > 0; k--) {
      const d = r.int(firstDay + 2, lastDay - 1);
      if (!workDay(d)) continue;
      const f = r.uniform(2.5, 4);
      factor(d, f);
      win("busy_day", dayStartUtc(p, d), DAY, `busy ×${f.toFixed(1)}`);
    }
  }
  if (r.chance(0.2)) {
    const at = dayStartUtc(p, r.int(firstDay + 5, lastDay - 3));
    p.shift = { at, hours: r.int(2, 4) };
    win("shift_change", at, 5 * DAY, `working hours +${p.shift.hours} h`);
  }
  if (r.chance(0.4)) {
    const at = r.uniform(p.start + 3 * DAY, p.end - 2 * DAY);
    const n = r.int(2, 5);
    const base = p.pool[0]?.id.split(":")[0] ?? "res";
    for (let i = 0; i < n; i++) p.pool.push({ id: `${base}:${id}-new${i}`, since: at });
    win("new_resource", at, 3 * DAY, `${n} new ${base}`);
  }
  if (a === DEVOPS) {
    // Devops picks up a new tool every 4–6 days.
    for (let at = p.start + r.uniform(2, 5) * DAY; at < p.end && spare.length > 0; at += r.uniform(4, 6) * DAY) {
      const name = spare[0]!;
      spare = spare.slice(1);
      p.newTools.push({ at, name });
      win("new_tool", at, 2 * DAY, `adopted ${name}`);
    }
  }
  if (r.chance(0.5)) {
    const at = r.uniform(p.start + 4 * DAY, p.end - 3 * DAY);
    const kind = a === DEVOPS ? r.pick(["replace", "step"]) : r.pick(["replace", "step", "adopt"]);
    if (kind === "replace") {
      p.replace = { at, ...a.replace };
      win("new_tool", at, 3 * DAY, `${a.replace.from} replaced by ${a.replace.to}`);
    } else if (kind === "step") {
      p.newStep = { at, ...a.newStep };
      win("new_tool", at, 3 * DAY, `new step ${a.newStep.action} in every task`);
    } else {
      p.newTools.push({ at, name: a.adopt });
      win("new_tool", at, 3 * DAY, `adopted ${a.adopt}`);
    }
  }

  // Normal work: Poisson task starts per hour at the agent's hour-of-week intensity.
  const tasks: Ev[][] = [];
  for (let h = Math.floor(p.start / HOUR); h * HOUR < p.end; h++) {
    const t0 = h * HOUR;
    const c = localClock(p, t0);
    const w = a.weight(c.hour, c.dow) * p.jitter[c.dow * 24 + c.hour]! * (p.dayFactor.get(c.day) ?? 1);
    for (let n = r.poisson(p.rate * w); n > 0; n--) tasks.push(a.task(r, p, t0 + r.next() * HOUR));
  }
  const extra: Ev[] = [];
  if (a.daily)
    for (let d = firstDay; d <= lastDay; d++)
      extra.push(...a.daily(r, p, dayStartUtc(p, d) + (p.shift && dayStartUtc(p, d) >= p.shift.at ? p.shift.hours * HOUR : 0)));
  const ns = p.newStep;
  if (ns) {
    for (const task of tasks) {
      const first = task[0];
      if (!first || first.ts < ns.at) continue;
      task.splice(1, 0, {
        ts: first.ts + Math.round(r.uniform(1, 10) * 1000),
        type: ns.type,
        action: ns.action,
        resource: first.resource,
        outcome: "success",
        latencyMs: Math.round(r.lognormal(200, 0.5)),
      });
    }
  }
  let evs = [...tasks.flat(), ...extra];

  if (r.chance(0.4)) {
    // Outage: nothing reaches us for 1–6 h, then the backlog is replayed at 2–5× speed.
    let oS = r.uniform(p.start + 2 * DAY, p.end - DAY);
    for (let i = 0; i < 200; i++) {
      const c = localClock(p, oS);
      if (a.weight(c.hour, c.dow) >= 0.5) break;
      oS += HOUR;
    }
    const dur = r.uniform(1, 6) * HOUR;
    const speed = r.uniform(2, 5);
    const oE = oS + dur;
    evs = evs.map((e) => (e.ts >= oS && e.ts < oE ? { ...e, ts: Math.round(oE + (e.ts - oS) / speed) } : e));
    win("outage_catchup", oE, dur / speed + MIN, `outage ${(dur / HOUR).toFixed(1)} h replayed at ${speed.toFixed(1)}×`);
  }
  const normal: Labelled[] = evs
    .filter((e) => e.ts >= p.start && e.ts < p.end)
    .map((ev) => ({ ev, benign: benign.find((b) => ev.ts >= b.start && ev.ts < b.end)?.type }));

  if (a.amountAction && r.chance(0.5)) {
    // Big tickets: legitimate amounts 10–60× the median, in working hours.
    for (let k = r.int(1, 3); k > 0; k--) {
      let t = r.uniform(p.start + 2 * DAY, p.end - DAY);
      for (let i = 0; i < 200; i++) {
        const c = localClock(p, t);
        if (a.weight(c.hour, c.dow) >= 0.5) break;
        t += HOUR;
      }
      const f = r.uniform(10, 60);
      const ts = Math.round(t);
      const ev: Ev = {
        ts,
        type: "transaction",
        action: a.amountAction,
        resource: `${a.amountAction.split(".")[0]}:big${r.int(1e5, 1e6)}`,
        amount: money(p.amountMedian * f, p.currency),
        currency: p.currency,
        outcome: "success",
        latencyMs: 400,
      };
      if (ts < p.end) {
        normal.push({ ev, benign: "big_ticket" });
        benign.push({ type: "big_ticket", start: ts, end: ts + 1, detail: `${f.toFixed(0)}× median` });
      }
    }
  }
  const used = new Set([...p.tools, ...p.newTools.map((n) => n.name)]);
  const discover = a === DEVOPS ? [...DEVOPS_DISCOVER, ...a.optional.filter((t) => !used.has(t))] : a.discover;
  const profile = `${a.name} ${p.region} tz ${p.tz >= 0 ? "+" : ""}${p.tz} ${days} d rate ${p.rate.toFixed(2)}/h ${p.tools.length} optional tools err ${(p.errRate * 100).toFixed(1)}%`;
  return { p, profile, normal, benign, discover };
}
