import { END, actionsOf, adoptInChain } from "../chain.ts";
import {
  RISKY_TOOLS, chainSession, jitterChain, latency, money, outOfScopeOf, unusedOf,
  type AgentModel, type Emitted, type KindDef,
} from "../model.ts";
import { Zipf, type Rng } from "../../common/rng.ts";
import { ZONES, officeHours, weekdays } from "../rhythm.ts";

/** A conversation: read the ticket, look the customer up, answer (several rounds), maybe refund, close. */
const BASE = {
  start: { "tickets.read": 1 },
  next: {
    "tickets.read": { "crm.lookup_customer": 0.8, "kb.search": 0.2 },
    "crm.lookup_customer": { "orders.lookup": 0.4, "kb.search": 0.2, "messages.send": 0.4 },
    "orders.lookup": { "messages.send": 0.6, "kb.search": 0.2, "refunds.create": 0.08, "crm.lookup_customer": 0.05 },
    "kb.search": { "messages.send": 0.8, "kb.search": 0.2 },
    "messages.send": {
      "messages.send": 0.35, "tickets.update": 0.25, "tickets.close": 0.3, "refunds.create": 0.04,
      "tickets.escalate": 0.03, "crm.update_contact": 0.02,
    },
    "refunds.create": { "messages.send": 0.7, "tickets.close": 0.3 },
    "tickets.update": { [END]: 0.6, "messages.send": 0.4 },
    "tickets.close": { [END]: 1 },
    "tickets.escalate": { [END]: 1 },
    "crm.update_contact": { "messages.send": 1 },
  },
};

export const support: KindDef = {
  name: "support",
  create(rng, v): AgentModel {
    const ccy = rng.pick(v.currencies);
    const zone = rng.pick(ZONES);
    const customers = rng.int(3000, 40000);
    const custPop = new Zipf(customers, rng.uniform(0.3, 0.8));
    const custIds = Array.from({ length: customers }, () => `cus_${rng.hex(8)}`);
    const kb = new Zipf(rng.int(80, 400), 1.0);
    const refundMedian = rng.uniform(15, 60);
    const refundLimit = rng.pick([100, 150, 250, 500]);
    let ticket = rng.int(10000, 90000);
    let customer = "";
    const lanes = rng.int(1, 3);
    const hasOrders = rng.chance(0.7);
    const scopes = rng.chance(0.5)
      ? ["crm.lookup_customer", "crm.update_contact", "tickets.*", "messages.send", "refunds.create", "kb.search", ...(hasOrders ? ["orders.lookup"] : [])]
      : ["crm.*", "tickets.*", "messages.*", "refunds.create", "kb.*", ...(hasOrders ? ["orders.lookup"] : [])];
    const base = hasOrders ? BASE : { ...BASE, next: { ...BASE.next, "crm.lookup_customer": { "kb.search": 0.3, "messages.send": 0.6, "refunds.create": 0.03 } } };
    const chain = jitterChain(base, rng);
    const reply = rng.uniform(40_000, 180_000);

    const emit = (action: string, r: Rng): Emitted => {
      const t = `ticket:T-${ticket}`;
      switch (action) {
        case "tickets.read":
          ticket += r.int(1, 40);
          customer = `customer:${custIds[custPop.draw(r)]}`;
          return { type: "tool_call", resource: `ticket:T-${ticket}`, latencyMs: latency(r, 60) };
        case "crm.lookup_customer": return { type: "data_access", resource: customer, latencyMs: latency(r, 110) };
        case "crm.update_contact": return { type: "data_access", resource: customer, latencyMs: latency(r, 150) };
        case "orders.lookup": return { type: "data_access", resource: `order:${r.int(1_000_000, 9_999_999)}`, latencyMs: latency(r, 90) };
        case "kb.search": return { type: "tool_call", resource: `kb:article-${kb.draw(r)}`, latencyMs: latency(r, 200, 0.6) };
        case "messages.send": return { type: "message", resource: t, latencyMs: latency(r, 250, 0.5) };
        case "refunds.create": {
          const amount = money(r.lognormal(refundMedian, 0.7), ccy);
          return { type: "transaction", resource: `refund:rf_${r.hex(10)}`, amount, currency: ccy, latencyMs: latency(r, 300), outcome: amount > refundLimit ? "denied" : undefined };
        }
        default: return { type: "tool_call", resource: t, latencyMs: latency(r, 80) };
      }
    };

    const m: AgentModel = {
      kind: "support",
      profile: `${zone.name}, ${lanes} lane(s), ${customers} customers, refunds ~${Math.round(refundMedian)} ${ccy} (limit ${refundLimit})`,
      scopes,
      rhythm: { tzMin: zone.min, tzName: zone.name, hourly: officeHours(rng), weekday: weekdays(rng.uniform(0.15, 0.6)) },
      sessionRate: rng.uniform(3, 8),
      lanes,
      errorRate: rng.uniform(0.01, 0.04),
      chain,
      // Between two messages the bot waits for the customer: minutes, not seconds.
      session: (r) => chainSession(m, r, 30, (a, b, rr) => (a === "messages.send" && b === "messages.send" ? rr.lognormal(reply, 0.8) : rr.lognormal(3000, 0.6))),
      emit,
      adoptTool: (tool, r) => adoptInChain(m.chain, tool, r),
      growResources: (r) => {
        // A new enterprise customer: several contacts that now raise tickets.
        const ids = Array.from({ length: r.int(3, 8) }, () => `cus_${r.hex(8)}`);
        for (let i = 0; i < ids.length; i++) custIds[i] = ids[i]!;
        return ids.map((id) => `customer:${id}`);
      },
      hooks: {
        amountActions: ["refunds.create"],
        sensitive: "refunds.create",
        unusedInScope: unusedOf(scopes, actionsOf(chain), ["tickets.merge", "tickets.assign", "crm.search", "messages.schedule", "kb.update", "tickets.tag"]),
        outOfScope: outOfScopeOf(scopes, ["crm.export", "refunds.approve_override", "crm.delete_customer", "orders.cancel", "payments.refund_full", ...RISKY_TOOLS]),
        exfil: { action: "crm.lookup_customer", type: "data_access", resource: (r) => `customer:cus_${r.hex(8)}` },
      },
    };
    return m;
  },
};
