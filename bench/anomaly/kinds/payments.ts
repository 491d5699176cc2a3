import { END, actionsOf, adoptInChain, walk } from "../chain.ts";
import {
  RISKY_TOOLS, jitterChain, latency, money, outOfScopeOf, unusedOf,
  type AgentModel, type Emitted, type KindDef, type Planned, type Step,
} from "../model.ts";
import { Zipf, type Rng } from "../../common/rng.ts";
import { ZONES, officeHours, weekdays } from "../rhythm.ts";

/** Accounts payable: fetch invoice → vendor → create → approve → execute → book. Never execute unapproved. */
const BASE = {
  start: { "invoices.fetch": 0.9, "payments.status": 0.1 },
  next: {
    "invoices.fetch": { "vendors.lookup": 0.92, [END]: 0.08 },
    "vendors.lookup": { "payments.create": 0.93, "vendors.update_bank_details": 0.012, [END]: 0.05 },
    "vendors.update_bank_details": { "payments.create": 1 },
    "payments.create": { "payments.approve": 1 },
    "payments.approve": { "payments.execute": 0.97, [END]: 0.03 },
    "payments.execute": { "ledger.record": 0.95, "payments.status": 0.05 },
    "ledger.record": { [END]: 1 },
    "payments.status": { [END]: 0.7, "ledger.record": 0.3 },
  },
};

interface Vendor { id: string; median: number; currency: string }

export const payments: KindDef = {
  name: "payments",
  create(rng, v): AgentModel {
    const zone = rng.pick(ZONES);
    // The holdout has multi-currency payers (a vendor is billed in its own currency).
    const ccys = v.holdout && rng.chance(0.6) ? rng.sample(v.currencies, 2) : [rng.pick(v.currencies.slice(0, 2))];
    const newVendor = (r: Rng): Vendor => {
      const currency = r.pick(ccys);
      return { id: `V-${r.int(10000, 99999)}`, median: r.lognormal(1500, 1.1) * (currency === "JPY" ? 150 : 1), currency };
    };
    const vendors = Array.from({ length: rng.int(30, 300) }, () => newVendor(rng));
    const vpop = new Zipf(vendors.length, rng.uniform(0.7, 1.2));
    const approvalLimit = rng.pick([25_000, 50_000, 100_000]);
    let invoice = rng.int(100000, 900000);
    let vendor = vendors[0]!;
    let pay = { id: "", amount: 0 };
    const runs = rng.sample([9, 10, 11, 14, 15, 16], rng.int(1, 3));
    const runMinute = rng.int(0, 50);
    const scopes = rng.chance(0.5)
      ? ["invoices.*", "vendors.lookup", "vendors.update_bank_details", "payments.*", "ledger.*"]
      : ["invoices.fetch", "vendors.*", "payments.create", "payments.approve", "payments.execute", "payments.status", "ledger.record"];
    const chain = jitterChain(BASE, rng, 0.2);

    const emit = (action: string, r: Rng): Emitted => {
      const amt = { amount: money(pay.amount, vendor.currency), currency: vendor.currency, resource: `payment:${pay.id}` };
      switch (action) {
        case "invoices.fetch":
          invoice += r.int(1, 5);
          vendor = vendors[vpop.draw(r)] ?? vendor;
          return { type: "api_request", resource: `invoice:INV-${invoice}`, latencyMs: latency(r, 140) };
        case "vendors.lookup": return { type: "data_access", resource: `vendor:${vendor.id}`, latencyMs: latency(r, 80) };
        case "vendors.update_bank_details": return { type: "data_access", resource: `vendor:${vendor.id}`, latencyMs: latency(r, 200) };
        case "payments.create":
          pay = { id: `pay_${r.hex(12)}`, amount: r.lognormal(vendor.median, 0.35) };
          return { type: "transaction", ...amt, resource: `payment:${pay.id}`, amount: money(pay.amount, vendor.currency), latencyMs: latency(r, 220) };
        // Above the agent's approval limit the approval is refused and the flow stops there.
        case "payments.approve": return { type: "transaction", ...amt, latencyMs: latency(r, 160), outcome: pay.amount > approvalLimit ? "denied" : undefined };
        case "payments.execute": return { type: "transaction", ...amt, latencyMs: latency(r, 900, 0.6) };
        case "ledger.record": return { type: "api_request", resource: `ledger:${pay.id}`, latencyMs: latency(r, 120) };
        case "payments.status": return { type: "api_request", resource: `payment:${pay.id || r.hex(12)}`, latencyMs: latency(r, 70) };
        default: return { type: "tool_call", resource: `vendor:${vendor.id}`, latencyMs: latency(r, 150) };
      }
    };
    const steps = (r: Rng, gapMed: number): Step[] => {
      const acts = walk(m.chain, r, 12);
      const out: Step[] = [];
      for (const [i, action] of acts.entries()) {
        const s = { action, gapMs: i === 0 ? 0 : r.lognormal(gapMed, 0.5), ...emit(action, r) };
        out.push(s);
        if (s.outcome === "denied") break;
      }
      return out;
    };

    const m: AgentModel = {
      kind: "payments",
      profile: `${zone.name} ${ccys.join("+")}, ${vendors.length} vendors, runs at ${runs.join("/")}h, approval limit ${approvalLimit}`,
      scopes,
      rhythm: { tzMin: zone.min, tzName: zone.name, hourly: officeHours(rng, [8, 9], [17, 18]), weekday: weekdays(0) },
      sessionRate: rng.uniform(0.5, 2.5),
      lanes: 1,
      errorRate: rng.uniform(0.01, 0.03),
      chain,
      session: (r) => steps(r, 2500),
      // Payment runs: a batch of invoices back to back at fixed hours on working days.
      scheduled: (slot, lt, r, scale): Planned[] => {
        if (!runs.includes(lt.hour) || lt.weekday === 0 || lt.weekday === 6 || scale < 0.5) return [];
        const n = Math.round(r.int(8, 40) * scale);
        const t0 = slot + runMinute * 60_000;
        const all: Step[] = [];
        for (let i = 0; i < n; i++) {
          const s = steps(r, 700);
          if (s[0]) s[0].gapMs = i === 0 ? 0 : r.lognormal(1500, 0.4);
          all.push(...s);
        }
        return [{ t0, steps: all }];
      },
      emit,
      adoptTool: (tool, r) => adoptInChain(m.chain, tool, r),
      growResources: (r) => {
        const fresh = Array.from({ length: r.int(1, 3) }, () => newVendor(r));
        // New suppliers start with a few invoices right away.
        for (let i = 0; i < fresh.length; i++) vendors[i + 2] = fresh[i]!;
        return fresh.map((f) => `vendor:${f.id}`);
      },
      hooks: {
        amountActions: ["payments.create", "payments.approve", "payments.execute"],
        sensitive: "vendors.update_bank_details",
        unusedInScope: unusedOf(scopes, actionsOf(chain), ["payments.cancel", "payments.schedule", "ledger.export", "vendors.search", "invoices.search"]),
        outOfScope: outOfScopeOf(scopes, ["treasury.transfer", "payments.refund", "accounts.create", "vendors.create", ...RISKY_TOOLS]),
        exfil: { action: "vendors.lookup", type: "data_access", resource: (r) => `vendor:V-${r.int(10000, 99999)}` },
        // Money out with no invoice, no create and no approval.
        impossible: (r): Step[] => Array.from({ length: r.int(1, 3) }, (_, i) => {
          pay = { id: `pay_${r.hex(12)}`, amount: r.lognormal(vendor.median, 0.35) };
          return { action: "payments.execute", gapMs: i === 0 ? 0 : r.lognormal(20_000, 0.5), ...emit("payments.execute", r) };
        }),
        spike: (r, factor): Step[] => {
          const first: Step = { action: "invoices.fetch", gapMs: 0, ...emit("invoices.fetch", r) };
          pay = { id: `pay_${r.hex(12)}`, amount: vendor.median * factor };
          const rest = ["vendors.lookup", "payments.create", "payments.approve", "payments.execute", "ledger.record"].map((action): Step => {
            const e: Emitted = action === "payments.create"
              ? { type: "transaction", resource: `payment:${pay.id}`, amount: money(pay.amount, vendor.currency), currency: vendor.currency, latencyMs: latency(r, 220) }
              : emit(action, r);
            // The compromised agent approves its own payment: the approval limit is what it bypasses.
            return { action, gapMs: r.lognormal(700, 0.5), ...e, outcome: undefined };
          });
          return [first, ...rest];
        },
      },
    };
    return m;
  },
};
