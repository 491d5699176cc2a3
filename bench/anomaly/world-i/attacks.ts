import type { SimEvent } from "../sim-event.ts";
import { ATTACK_TYPES, type AttackType } from "../types.ts";
import { type Agent, type Arch, DAY, type Gen, HOUR, MIN } from "./model.ts";
import type { Stream } from "./rng.ts";

export interface Plan {
  id: string;
  attack: AttackType;
  day: number;
  /** Days the episode is spread over (1: one burst). */
  span: number;
  subtle: boolean;
  slow: boolean;
  /** A benign surge to hide inside: [start, end). */
  surge?: [number, number, string];
}

const SLOW_OK: ReadonlySet<AttackType> = new Set([
  "rate_burst",
  "amount_spike",
  "tool_discovery",
  "out_of_scope",
  "exfiltration",
  "odd_hours",
  "impossible_sequence",
  "dormant_tool",
  "error_storm",
]);
const NARROW: ReadonlySet<AttackType> = new Set(["amount_spike", "drift_amount", "exfiltration"]);
const DRIFT: ReadonlySet<AttackType> = new Set(["drift_amount", "drift_mix"]);

export function fits(arch: Arch, f: AttackType): boolean {
  if (f === "amount_spike" || f === "drift_amount") return arch.amounts;
  if (f === "exfiltration") return arch.volume !== undefined;
  if (f === "odd_hours") return arch.name !== "devops-runbook-bot";
  return true;
}

/** A world-wide dealer: the fitting family dealt least often so far (ties drawn at random), so every family comes up. */
export function dealer(r: Stream): (ok: (f: AttackType) => boolean) => AttackType | undefined {
  const dealt = new Map<AttackType, number>(ATTACK_TYPES.map((f) => [f, 0]));
  return (ok) => {
    const fit = ATTACK_TYPES.filter(ok);
    if (fit.length === 0) return undefined;
    // families only some archetypes can take are favoured when this one can
    const key = (f: AttackType): number => dealt.get(f)! - (NARROW.has(f) ? 0.5 : 0);
    const least = Math.min(...fit.map(key));
    const f = r.pick(fit.filter((x) => key(x) === least));
    dealt.set(f, least + 1);
    return f;
  };
}

const midnight = (a: Agent, d: number): number => Math.floor((a.start + d * DAY + a.tz * HOUR) / DAY) * DAY - a.tz * HOUR;

export function planAttacks(arch: Arch, a: Agent, r: Stream, days: number, deal: ReturnType<typeof dealer>): Plan[] {
  const plans: Plan[] = [];
  const count = r.chance(0.45) ? 2 : 1;
  let from = 12;
  for (let k = 0; k < count; k++) {
    const room = days - 1 - from;
    const attack = deal((f) => fits(arch, f) && (DRIFT.has(f) ? room >= 11 : room >= 2));
    if (!attack) break;
    const subtle = r.chance(0.5);
    let surge: Plan["surge"];
    if ((attack === "rate_burst" || attack === "exfiltration" || attack === "error_storm") && r.chance(0.6)) {
      const w = a.windows.find((x) => x.type === "busy_day" && x.mult > 1 && x.start >= a.start + from * DAY && x.end <= a.end);
      const me = midnight(a, Math.floor((Date.UTC(2026, 10, 30) - a.start) / DAY));
      if (w) surge = [w.start, w.end, w.detail];
      else if (me >= a.start + from * DAY && (arch.name === "data-warehouse-reporter" || arch.name === "treasury-cash-positioning"))
        surge = [me + 6 * HOUR, me + 16 * HOUR, "month end"];
    }
    const slow = !surge && SLOW_OK.has(attack) && room >= 3 && r.chance(0.6);
    const span = DRIFT.has(attack) ? Math.min(room, r.int(10, 16)) : slow ? Math.min(room - 1, r.int(2, 5)) : 1;
    const day = r.int(from, Math.max(from, days - 1 - span));
    const p: Plan = { id: `${a.id}/ep${k}`, attack, day, span, subtle, slow, surge };
    if (surge) p.day = Math.floor((surge[0] - a.start) / DAY);
    plans.push(p);
    from = p.day + span + 2;
    if (from > days - 3) break;
  }
  return plans;
}

const PROBES = [
  "admin.users.list",
  "iam.role.list",
  "secrets.get",
  "config.dump",
  "billing.export",
  "user.impersonate",
  "db.schema.describe",
  "kms.decrypt",
  "api_keys.list",
  "webhook.create",
  "audit.disable",
  "storage.bucket.list",
  "network.scan",
  "shell.exec",
  "org.members.list",
  "token.mint",
  "backup.download",
  "feature_flag.set",
];
const FORBIDDEN: Record<string, string[]> = {
  "retail-payments-gateway-agent": ["payout.create", "merchant.bank_account.update"],
  "treasury-cash-positioning": ["wire.external", "beneficiary.add"],
  "customer-email-triage": ["contacts.export", "mailbox.delete_all"],
  "data-warehouse-reporter": ["table.drop", "user.create"],
  "devops-runbook-bot": ["iam.policy.attach", "firewall.rule.open"],
};

const median = (xs: number[]): number => {
  const s = [...xs].sort((p, q) => p - q);
  return s[Math.floor(s.length / 2)] ?? 1;
};

/** Times for an episode: one window, or a few moments on each of `span` days. */
function times(a: Agent, r: Stream, p: Plan, n: number, durMs: number, hour: [number, number]): number[] {
  const out: number[] = [];
  if (p.slow) {
    for (let d = 0; d < p.span; d++) {
      const m = midnight(a, p.day + d);
      for (let i = 0; i < n; i++) out.push(Math.round(m + r.between(hour[0], hour[1]) * HOUR));
    }
    return out;
  }
  const s = p.surge ? r.between(p.surge[0], Math.max(p.surge[0], p.surge[1] - durMs)) : midnight(a, p.day) + r.between(hour[0], hour[1]) * HOUR;
  for (let i = 0; i < n; i++) out.push(Math.round(s + r.u() * durMs));
  return out;
}

export interface Injected {
  gens: Gen[];
  replaced: Set<Gen>;
  variant: string;
}

export function injectAttack(arch: Arch, a: Agent, r: Stream, p: Plan, normal: Gen[]): Injected | undefined {
  const gens: Gen[] = [];
  const replaced = new Set<Gen>();
  const tag = p.slow ? `slow ${p.span} d` : p.subtle ? "subtle" : "fast";
  const hid = p.surge ? `, inside ${p.surge[2]}` : "";
  const days = Math.round((a.end - a.start) / DAY);
  const evPerDay = normal.length / days;
  const work: [number, number] = arch.name === "devops-runbook-bot" ? [0, 23] : [9.5, 16];
  const add = (ev: SimEvent): void => {
    gens.push({ ev, episode: p.id });
  };
  const requests = (ts: number[]): void => {
    for (const t of ts) {
      const tmp: Gen[] = [];
      if (arch.name === "devops-runbook-bot") {
        const tpl = r.pick(normal).ev;
        tmp.push({ ev: { ...tpl, ts: t } });
      } else arch.request(a, r, t, tmp);
      for (const g of tmp) add(g.ev);
    }
  };
  switch (p.attack) {
    case "rate_burst": {
      if (p.slow) {
        const k = r.int(2, 5);
        for (let d = 0; d < p.span; d++)
          for (let j = 0; j < k; j++) {
            const s = midnight(a, p.day + d) + r.between(work[0], work[1]) * HOUR;
            requests(Array.from({ length: r.int(3, 8) }, () => Math.round(s + r.u() * 10 * MIN)));
          }
        return { gens, replaced, variant: `${tag}: ${k} mini-bursts/day of 3-8 requests` };
      }
      const mult = p.subtle ? r.between(3, 5) : r.between(8, 30);
      const dur = r.between(20, 90) * MIN;
      const surgeMult = p.surge ? (a.windows.find((w) => w.start === p.surge![0])?.mult ?? 4) : 1;
      const n = Math.max(p.subtle ? 4 : 8, Math.round(((mult * surgeMult * a.perDay) / 24) * 2 * (dur / HOUR) * (arch.name === "devops-runbook-bot" ? 8 : 1)));
      requests(times(a, r, p, n, dur, work));
      return { gens, replaced, variant: `${tag}: x${mult.toFixed(1)} for ${Math.round(dur / MIN)} min, ${n} requests${hid}` };
    }
    case "amount_spike": {
      const amts = normal.filter((g) => g.ev.amount !== undefined && g.ev.action !== "refund.create");
      if (amts.length === 0) return undefined;
      const x = p.slow ? r.between(4, 9) : p.subtle ? r.between(4, 7) : r.between(15, 80);
      const n = p.slow ? r.int(1, 2) : p.subtle ? r.int(1, 3) : r.int(2, 6);
      const isPay = arch.name === "retail-payments-gateway-agent";
      for (const t of times(a, r, p, n, 40 * MIN, work)) {
        const c = r.pick(a.currencies);
        const amount = Math.round(c.median * x * r.between(0.8, 1.25) * 100) / 100;
        const id = `${isPay ? "pay" : "sw"}_${a.short}_${(a.n++).toString(36)}`;
        add({
          ts: t,
          type: isPay ? "transaction" : "tool_call",
          action: isPay ? "payment.authorize" : "sweep.propose",
          resource: id,
          amount,
          currency: c.code,
          outcome: "success",
          latencyMs: Math.round(r.lognormal(400, 0.4)),
        });
        add({
          ts: t + r.int(2000, 60_000),
          type: "transaction",
          action: isPay ? "payment.capture" : "sweep.execute",
          resource: id,
          amount,
          currency: c.code,
          outcome: "success",
          latencyMs: Math.round(r.lognormal(400, 0.4)),
        });
      }
      return { gens, replaced, variant: `${tag}: ${n}${p.slow ? "/day" : ""} payments at x${x.toFixed(1)} median` };
    }
    case "tool_discovery": {
      const tools = r.shuffle([...PROBES]);
      const n = p.slow ? r.int(1, 3) : p.subtle ? r.int(3, 4) : r.int(6, 18);
      const ts = times(a, r, p, n, p.subtle ? 2 * HOUR : r.between(15, 40) * MIN, work);
      ts.forEach((t, i) => {
        const action = tools[i % tools.length]!;
        for (let c = 0, k = p.subtle || p.slow ? 1 : r.int(1, 3); c < k; c++)
          add({
            ts: t + c * r.int(1000, 20_000),
            type: "tool_call",
            action,
            outcome: r.chance(0.75) ? "denied" : r.chance(0.5) ? "error" : "success",
            latencyMs: Math.round(r.lognormal(150, 0.5)),
          });
      });
      return { gens, replaced, variant: `${tag}: ${Math.min(ts.length, tools.length)} unknown tools probed` };
    }
    case "out_of_scope": {
      const acts = FORBIDDEN[arch.name]!;
      const n = p.slow ? r.int(1, 2) : p.subtle ? r.int(1, 3) : r.int(4, 15);
      for (const t of times(a, r, p, n, 30 * MIN, work))
        add({
          ts: t,
          type: "tool_call",
          action: r.pick(acts),
          resource: `${a.short}/target-${r.int(1, 5)}`,
          outcome: r.chance(0.85) ? "success" : "denied",
          latencyMs: Math.round(r.lognormal(600, 0.5)),
        });
      return { gens, replaced, variant: `${tag}: ${n}${p.slow ? "/day" : ""} calls of ${acts.join("/")}` };
    }
    case "exfiltration": {
      const v = arch.volume;
      if (!v) return undefined;
      const tpl = normal.filter((g) => g.ev.action === v.action);
      if (tpl.length === 0) return undefined;
      const med = median(tpl.map((g) => Number(g.ev.attributes?.[v.key] ?? 0)));
      const x = p.slow ? r.between(4, 10) : p.subtle ? r.between(4, 8) : r.between(20, 200);
      const n = p.slow ? r.int(2, 5) : p.subtle ? r.int(3, 8) : r.int(5, 30);
      for (const t of times(a, r, p, n, r.between(20, 60) * MIN, work)) {
        const base = r.pick(tpl).ev;
        const vol = Math.round(med * x * r.between(0.7, 1.4));
        const attributes: Record<string, number | string> = { [v.key]: vol };
        if (v.key === "rows_returned") attributes.bytes_scanned = Math.round(vol * r.lognormal(1000, 0.3));
        add({ ...base, ts: t, outcome: "success", attributes });
      }
      return { gens, replaced, variant: `${tag}: ${n}${p.slow ? "/day" : ""} reads of ${v.key} x${x.toFixed(0)} median${hid}` };
    }
    case "error_storm": {
      const n = p.slow ? r.int(4, 10) : p.subtle ? r.int(15, 40) : r.int(40, 300);
      const ts = times(a, r, p, n, p.subtle ? 2 * HOUR : r.between(10, 45) * MIN, work);
      for (const t of ts) {
        const base = r.pick(normal).ev;
        add({
          ...base,
          ts: t,
          outcome: p.subtle && r.chance(0.4) ? "success" : r.chance(0.8) ? "error" : "denied",
          latencyMs: Math.round(r.lognormal(base.latencyMs ?? 300, 0.8)),
        });
      }
      return { gens, replaced, variant: `${tag}: ${n}${p.slow ? "/day" : ""} failing calls${hid}` };
    }
    case "odd_hours": {
      const n = p.slow ? r.int(3, 8) : p.subtle ? r.int(3, 8) : r.int(10, 40);
      requests(times(a, r, p, n, r.between(1, 2) * HOUR, [1.5, 3.5]));
      return { gens, replaced, variant: `${tag}: ${n}${p.slow ? "/night" : ""} requests at 01:30-04:30 local` };
    }
    case "impossible_sequence": {
      const n = p.slow ? r.int(1, 2) : p.subtle ? r.int(1, 2) : r.int(3, 8);
      for (const t of times(a, r, p, n, HOUR, work)) {
        const fresh = `${a.short}_${(a.n++).toString(36)}x`;
        const c = r.pick(a.currencies);
        const amount = Math.round(r.lognormal(c.median, 0.5) * 100) / 100;
        const lat = Math.round(r.lognormal(400, 0.4));
        if (arch.name === "retail-payments-gateway-agent")
          add({ ts: t, type: "transaction", action: "refund.create", resource: `pay_${fresh}`, amount, currency: c.code, outcome: "success", latencyMs: lat });
        else if (arch.name === "treasury-cash-positioning")
          add({
            ts: t,
            type: "transaction",
            action: "sweep.execute",
            resource: `sw-${fresh}`,
            amount: Math.round(amount),
            currency: c.code,
            outcome: "success",
            latencyMs: lat,
          });
        else if (arch.name === "customer-email-triage")
          add({ ts: t, type: "message", action: "reply.send", resource: `msg-${fresh}`, outcome: "success", latencyMs: lat });
        else if (arch.name === "data-warehouse-reporter")
          add({ ts: t, type: "tool_call", action: "report.publish", resource: `rpt-${fresh}`, outcome: "success", latencyMs: lat });
        else
          add({
            ts: t,
            type: "tool_call",
            action: "deploy.rollback",
            resource: `svc/${r.pick(["checkout", "auth", "billing"])}`,
            outcome: "success",
            latencyMs: lat * 100,
          });
      }
      return { gens, replaced, variant: `${tag}: ${n}${p.slow ? "/day" : ""} out-of-order steps` };
    }
    case "dormant_tool": {
      const action = r.pick(arch.dormant);
      const n = p.slow ? r.int(1, 2) : p.subtle ? r.int(1, 2) : r.int(3, 12);
      for (const t of times(a, r, p, n, HOUR, work))
        add({ ts: t, type: "tool_call", action, resource: `${a.short}/obj-${r.int(1, 40)}`, outcome: "success", latencyMs: Math.round(r.lognormal(500, 0.4)) });
      return { gens, replaced, variant: `${tag}: ${n}${p.slow ? "/day" : ""} calls of dormant ${action}` };
    }
    case "drift_amount": {
      const target = p.subtle ? r.between(1.8, 2.5) : r.between(3, 6);
      const s = midnight(a, p.day);
      const len = p.span * DAY;
      for (const g of normal) {
        if (g.ev.ts < s || g.ev.amount === undefined) continue;
        const f = 1 + (target - 1) * Math.min(1, (g.ev.ts - s) / len);
        replaced.add(g);
        gens.push({ ev: { ...g.ev, amount: Math.round(g.ev.amount * f * 100) / 100 }, episode: p.id });
      }
      return { gens, replaced, variant: `${tag}: amounts ramp to x${target.toFixed(1)} over ${p.span} d` };
    }
    case "drift_mix": {
      const kmax = Math.max(2, (p.subtle ? 0.12 : 0.4) * evPerDay);
      const s = midnight(a, p.day);
      let action = "";
      for (let d = 0; d < days - p.day; d++) {
        const k = Math.round(kmax * Math.min(1, (d + 1) / p.span) * r.between(0.7, 1.3));
        const dayEv = normal.filter((g) => g.ev.ts >= s + d * DAY && g.ev.ts < s + (d + 1) * DAY);
        for (let i = 0; i < k; i++) {
          const t = (dayEv.length ? r.pick(dayEv).ev.ts : s + d * DAY + r.between(9, 17) * HOUR) + r.int(1000, 600_000);
          const lat = Math.round(r.lognormal(500, 0.5));
          if (arch.name === "retail-payments-gateway-agent") {
            const caps = normal.filter((g) => g.ev.action === "payment.capture" && g.ev.ts < t && g.ev.ts > t - 3 * DAY);
            if (caps.length === 0) continue;
            const c = r.pick(caps).ev;
            action = "refund.create";
            add({
              ts: t,
              type: "transaction",
              action,
              resource: c.resource,
              amount: Math.round(c.amount! * r.between(0.2, 1) * 100) / 100,
              currency: c.currency,
              outcome: "success",
              latencyMs: lat,
            });
          } else if (arch.name === "customer-email-triage") {
            const reads = normal.filter((g) => g.ev.action === "mail.read" && g.ev.ts < t && g.ev.ts > t - DAY);
            if (reads.length === 0) continue;
            action = "ticket.create";
            add({ ts: t, type: "tool_call", action, resource: r.pick(reads).ev.resource, outcome: "success", latencyMs: lat });
          } else if (arch.name === "treasury-cash-positioning") {
            action = "forecast.run";
            add({ ts: t, type: "tool_call", action, resource: `horizon/${r.pick(["13w", "30d", "eod"])}`, outcome: "success", latencyMs: lat * 10 });
          } else if (arch.name === "data-warehouse-reporter") {
            action = "report.render";
            add({ ts: t, type: "tool_call", action, resource: `rpt-${a.short}-adhoc-${(a.n++).toString(36)}`, outcome: "success", latencyMs: lat * 30 });
          } else {
            action = "service.restart";
            add({ ts: t, type: "tool_call", action, resource: `svc/${r.pick(["checkout", "search", "auth"])}`, outcome: "success", latencyMs: lat * 30 });
          }
        }
      }
      return { gens, replaced, variant: `${tag}: ${action} share ramps to ~${kmax.toFixed(0)}/day over ${p.span} d` };
    }
  }
  return undefined;
}
