import type { SimEvent } from "../sim-event.ts";
import type { BenignWindow } from "../types.ts";
import { baseProfile, busyDays, dayWindow, finish } from "./agent.ts";
import type { Arch } from "./arch.ts";
import { atLocal, clock, DAY, days, gap, holiday, hourly, Out, type Profile, weekend, ZONES } from "./model.ts";
import type { Rand } from "./random.ts";

interface Desk {
  floor: number;
  currency: string;
  policies: number;
  seq: number;
}
const desks = new Map<string, Desk>();

/** Claim payout: Pareto α 1.3 above the agent's floor, capped at 2,000× the floor. */
const payout = (r: Rand, d: Desk, k = 1): number => Math.round(Math.min(r.pareto(d.floor * k, 1.3), d.floor * 2000) * 100) / 100;

function claim(r: Rand, p: Profile, o: Out, t: number, storm: boolean, rolled: boolean): void {
  const d = desks.get(p.id)!;
  const resource = `claim:${p.id.slice(-1)}-${(++d.seq).toString(36)}`;
  const peril = storm ? "storm" : r.pick(["water", "theft", "fire", "motor", "liability", "glass"]);
  t = o.step({ ts: t, type: "api_request", action: "claim.intake", resource, attributes: { peril } }) + gap(r, 20, 1.2, 3 * 3600);
  if (rolled) t = o.step({ ts: t, type: "tool_call", action: "claim.fraud_score", resource }) + gap(r, 2, 1.5, 120);
  const policy = storm ? `policy:s${r.int(1, 50_000)}` : `policy:${r.zipf(d.policies)}`;
  t = o.step({ ts: t, type: "data_access", action: "policy.read", resource: policy, attributes: { records: 1 } }) + gap(r, 3, 1.4, 600);
  if (r.chance(0.2))
    t = o.step({ ts: t, type: "data_access", action: "claim.history", resource: policy, attributes: { records: r.int(1, 40) } }) + gap(r, 3, 1.4, 600);
  t = o.step({ ts: t, type: "tool_call", action: "claim.assess", resource, attributes: { documents: r.int(1, 8) } }) + gap(r, 30, 1.1, 6 * 3600);
  if (r.chance(0.18)) {
    o.step({ ts: t, type: "tool_call", action: "claim.deny", resource });
    return;
  }
  t = o.step({ ts: t, type: "tool_call", action: "claim.approve", resource }) + gap(r, 10, 1.3, 3600);
  o.step({ ts: t, type: "transaction", action: r.chance(0.01) ? p.rare : "claim.pay", resource, amount: payout(r, d, storm ? 2 : 1), currency: d.currency });
}

export const CLAIMS: Arch = {
  name: "claims-insurance",
  read: "claim.history",
  money: "claim.pay",
  draw(r, id, end, shared) {
    const p = baseProfile(r, id, this.name, end, [ZONES.london, ZONES.berlin, ZONES.newyork, ZONES.chicago], shared, {
      scopes: ["claim.*", "policy.read", "payee.update_bank"],
      dormant: ["claim.reopen_paid", "payee.update_bank"],
      rare: "claim.expedite_pay",
      outOfScope: ["policy.cancel", "underwriting.override", "iam.create_key", "payments.send_external", "crm.export_contacts"],
      discover: ["claim.list", "claim.export", "claim.reassign", "claim.merge", "claim.notes", "claim.subrogate", "claim.reserve_set", "claim.search"],
    });
    const d: Desk = { floor: r.uniform(200, 800), currency: p.zone.us ? "USD" : p.zone === ZONES.london ? "GBP" : "EUR", policies: r.int(2000, 20000), seq: 0 };
    desks.set(p.id, d);
    const o = new Out(r, p);
    const windows: BenignWindow[] = [];
    const ds = days(p);
    // Catastrophe week (a storm) on about half the agents.
    const cat = r.chance(0.5) ? r.int(clock(p, p.start).day + 6, ds[ds.length - 1]! - 7) : undefined;
    if (cat !== undefined) windows.push(dayWindow(p, "busy_day", cat, cat + 6, "catastrophe week (storm): 8× claims, larger payouts, weekend work"));
    const busy = busyDays(r, p, r.int(0, 2), 2, 3);
    for (const [b, k] of busy) windows.push(dayWindow(p, "busy_day", b, b, `busy day ×${k.toFixed(1)}`));
    const storm = (day: number) => cat !== undefined && day >= cat && day <= cat + 6;
    const rate = r.uniform(1, 5);
    hourly(
      r,
      p,
      rate,
      (h, dow) => (h >= 8 && h < 18 ? (h === 12 ? 0.5 : 1) : h >= 18 && h < 20 ? 0.1 : 0) * (weekend(dow) ? 0 : 1),
      (day) => (storm(day) ? 8 : holiday(p, day) ? 0 : (busy.get(day) ?? 1)),
      (t) => claim(r, p, o, t, storm(clock(p, t).day), t >= shared.rolloutAt),
    );
    if (cat !== undefined)
      for (let day = cat; day <= cat + 6; day++) {
        const dow = (((day + 4) % 7) + 7) % 7;
        if (!weekend(dow)) continue;
        for (let n = Math.round(rate * 8 * 0.6 * 8); n > 0; n--)
          claim(r, p, o, atLocal(p, day, r.uniform(9, 17)), true, atLocal(p, day, 9) >= shared.rolloutAt);
      }
    if (r.chance(0.5)) {
      for (let k = r.int(1, 3); k > 0; k--) {
        const ts = atLocal(p, r.pick(ds.slice(5, -1)), r.uniform(9, 17));
        const amount = Math.round(d.floor * r.uniform(300, 1500));
        o.step({ ts, type: "transaction", action: "claim.pay", resource: `claim:${p.id.slice(-1)}-${(++d.seq).toString(36)}`, amount, currency: d.currency });
        windows.push({ type: "big_ticket", start: ts, end: ts + 60_000, detail: `large settlement ${amount} ${d.currency}` });
      }
    }
    windows.push({ type: "new_tool", start: shared.rolloutAt, end: shared.rolloutAt + 3 * DAY, detail: "rollout: claim.fraud_score after every intake" });
    return finish(
      r,
      p,
      o.evs,
      windows,
      `${p.zone.name}, floor ${d.floor.toFixed(0)} ${d.currency}, ${rate.toFixed(1)} claims/h${cat !== undefined ? ", catastrophe week" : ""}`,
    );
  },
  task(r, p, t) {
    const o = new Out(r, { ...p, errRate: 0 });
    claim(r, p, o, t, false, false);
    return o.evs.map((g) => g.ev);
  },
  badSequence(r, p, t) {
    const d = desks.get(p.id)!;
    const resource = `claim:${p.id.slice(-1)}-${(++d.seq).toString(36)}`;
    const ev = (dt: number, action: string, type: SimEvent["type"], extra: Partial<SimEvent> = {}): SimEvent => ({
      ts: t + dt,
      type,
      action,
      resource,
      outcome: "success",
      ...extra,
    });
    // Paid before it was assessed or approved; intake after the payment.
    return {
      evs: [
        ev(0, "claim.pay", "transaction", { amount: payout(r, d), currency: d.currency }),
        ev(25_000, "claim.approve", "tool_call"),
        ev(60_000, "claim.intake", "api_request", { attributes: { peril: "water" } }),
      ],
      variant: "pay before approve, intake last",
    };
  },
};
