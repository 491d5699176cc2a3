import { END, actionsOf, adoptInChain } from "../chain.ts";
import {
  RISKY_TOOLS, chainSession, jitterChain, latency, money, outOfScopeOf, unusedOf,
  type AgentModel, type Emitted, type KindDef,
} from "../model.ts";
import { Zipf, type Rng } from "../../common/rng.ts";
import { ZONES, officeHours, weekdays } from "../rhythm.ts";

/** Holdout-only kind: answers employees' HR questions, handles leave and small expense claims. */
const BASE = {
  start: { "hris.search": 0.4, "leave.read": 0.25, "docs.read": 0.2, "expenses.read": 0.15 },
  next: {
    "hris.search": { "hris.read_employee": 0.85, [END]: 0.15 },
    "hris.read_employee": { "messages.send": 0.4, "calendar.read": 0.2, "leave.read": 0.2, "payroll.read": 0.02, [END]: 0.18 },
    "leave.read": { "calendar.read": 0.4, "leave.approve": 0.35, "messages.send": 0.25 },
    "calendar.read": { "leave.approve": 0.3, "messages.send": 0.5, [END]: 0.2 },
    "leave.approve": { "messages.send": 0.8, [END]: 0.2 },
    "docs.read": { "messages.send": 0.7, "docs.read": 0.2, [END]: 0.1 },
    "expenses.read": { "expenses.approve": 0.75, "messages.send": 0.25 },
    "expenses.approve": { "messages.send": 0.6, [END]: 0.4 },
    "payroll.read": { "messages.send": 1 },
    "messages.send": { [END]: 0.8, "messages.send": 0.2 },
  },
};

export const hr: KindDef = {
  name: "hr-assistant",
  create(rng, v): AgentModel {
    const zone = rng.pick(ZONES);
    const ccy = rng.pick(v.currencies);
    const staff = rng.int(300, 20000);
    const pop = new Zipf(staff, rng.uniform(0.4, 0.9));
    const ids = Array.from({ length: staff }, (_, i) => `E${String(10000 + i * 7).padStart(6, "0")}`);
    const policies = ["parental-leave", "travel", "remote-work", "expenses", "pension", "holiday", "sick-leave", "code-of-conduct"];
    let emp = ids[0]!;
    let leave = rng.int(1000, 9000);
    const expMedian = rng.uniform(30, 250);
    const scopes = rng.chance(0.5)
      ? ["hris.read_employee", "hris.search", "leave.*", "calendar.read", "messages.send", "docs.read", "expenses.*", "payroll.read"]
      : ["hris.*", "leave.read", "leave.approve", "calendar.*", "messages.*", "docs.*", "expenses.read", "expenses.approve", "payroll.read"];
    const chain = jitterChain(BASE, rng);

    const emit = (action: string, r: Rng): Emitted => {
      switch (action) {
        case "hris.search": emp = ids[pop.draw(r)]!; return { type: "api_request", resource: `query:${r.hex(8)}`, latencyMs: latency(r, 180) };
        case "hris.read_employee": return { type: "data_access", resource: `employee:${emp}`, latencyMs: latency(r, 90) };
        case "payroll.read": return { type: "data_access", resource: `payroll:${emp}`, latencyMs: latency(r, 140) };
        case "leave.read": leave += r.int(1, 9); return { type: "data_access", resource: `leave:LR-${leave}`, latencyMs: latency(r, 70) };
        case "leave.approve": return { type: "api_request", resource: `leave:LR-${leave}`, latencyMs: latency(r, 130) };
        case "calendar.read": return { type: "data_access", resource: `calendar:${emp}`, latencyMs: latency(r, 110) };
        case "docs.read": return { type: "data_access", resource: `policy:${r.pick(policies)}`, latencyMs: latency(r, 60) };
        case "expenses.read": emp = ids[pop.draw(r)]!; return { type: "data_access", resource: `expense:EX-${r.int(100000, 999999)}`, latencyMs: latency(r, 80) };
        case "expenses.approve": return { type: "transaction", resource: `expense:EX-${r.int(100000, 999999)}`, amount: money(r.lognormal(expMedian, 0.8), ccy), currency: ccy, latencyMs: latency(r, 160) };
        case "messages.send": return { type: "message", resource: `employee:${emp}`, latencyMs: latency(r, 300) };
        default: return { type: "tool_call", resource: `employee:${emp}`, latencyMs: latency(r, 150) };
      }
    };

    const m: AgentModel = {
      kind: "hr-assistant",
      profile: `${zone.name}, ${staff} employees, expenses ~${Math.round(expMedian)} ${ccy}`,
      scopes,
      rhythm: { tzMin: zone.min, tzName: zone.name, hourly: officeHours(rng, [8, 9], [17, 18]), weekday: weekdays(0.03) },
      sessionRate: rng.uniform(5, 12),
      lanes: rng.int(1, 2),
      errorRate: rng.uniform(0.01, 0.03),
      chain,
      session: (r) => chainSession(m, r, 15, (_a, _b, rr) => rr.lognormal(5000, 0.7)),
      emit,
      adoptTool: (tool, r) => adoptInChain(m.chain, tool, r),
      growResources: (r) => {
        policies.push("ai-usage", "ai-usage");
        for (let i = 0; i < 5; i++) ids[i] = `E${r.int(900000, 999999)}`;
        return ["policy:ai-usage", ...ids.slice(0, 5).map((id) => `employee:${id}`)];
      },
      hooks: {
        amountActions: ["expenses.approve"],
        sensitive: "payroll.read",
        unusedInScope: unusedOf(scopes, actionsOf(chain), ["hris.org_chart", "leave.reject", "calendar.book", "docs.search", "expenses.reject"]),
        outOfScope: outOfScopeOf(scopes, ["payroll.update", "hris.update_salary", "hris.export", "hris.terminate", ...RISKY_TOOLS]),
        exfil: { action: "hris.read_employee", type: "data_access", resource: (r) => `employee:E${String(r.int(10000, 999999)).padStart(6, "0")}` },
      },
    };
    return m;
  },
};
