import { END, actionsOf, adoptInChain, walk } from "../chain.ts";
import {
  RISKY_TOOLS, chainSession, jitterChain, latency, outOfScopeOf, unusedOf,
  type AgentModel, type Emitted, type KindDef, type Planned,
} from "../model.ts";
import type { Rng } from "../../common/rng.ts";
import { ZONES, officeHours, weekdays } from "../rhythm.ts";

const SERVICES = ["api", "auth", "billing", "search", "checkout", "notifications", "gateway", "catalog", "users", "reports", "ledger", "media"];

/** CI → staging → (sometimes) production; alerts at any hour lead to metrics, logs, scaling. */
const BASE = {
  start: { "ci.run": 0.6, "logs.read": 0.25, "metrics.query": 0.15 },
  next: {
    "ci.run": { "ci.status": 1 },
    "ci.status": { "ci.status": 0.55, "deploy.staging": 0.3, [END]: 0.15 },
    "deploy.staging": { "ci.status": 0.3, "metrics.query": 0.4, "deploy.production": 0.25, "secrets.read": 0.01 },
    "secrets.read": { "deploy.production": 0.5, [END]: 0.5 },
    "deploy.production": { "metrics.query": 0.7, "k8s.get": 0.3 },
    "metrics.query": { "logs.read": 0.3, "metrics.query": 0.2, [END]: 0.5 },
    "logs.read": { "logs.read": 0.3, "k8s.get": 0.2, "metrics.query": 0.2, [END]: 0.3 },
    "k8s.get": { "k8s.scale": 0.1, "k8s.rollback": 0.02, [END]: 0.88 },
    "k8s.scale": { "metrics.query": 0.6, [END]: 0.4 },
    "k8s.rollback": { "metrics.query": 1 },
    "alerts.ack": { "metrics.query": 0.6, "logs.read": 0.4 },
  },
};

export const devops: KindDef = {
  name: "devops",
  create(rng): AgentModel {
    const zone = rng.pick(ZONES);
    const svcs = rng.sample(SERVICES, rng.int(3, 10));
    let svc = svcs[0]!;
    let run = rng.int(1000, 50000);
    const alertRate = rng.uniform(0.03, 0.3);
    const scopes = rng.chance(0.5)
      ? ["ci.*", "deploy.*", "k8s.get", "k8s.scale", "k8s.rollback", "logs.read", "metrics.query", "alerts.*", "secrets.read"]
      : ["ci.run", "ci.status", "deploy.staging", "deploy.production", "k8s.*", "logs.*", "metrics.*", "alerts.ack", "secrets.read"];
    const chain = jitterChain(BASE, rng);

    const emit = (action: string, r: Rng): Emitted => {
      switch (action) {
        case "ci.run":
          svc = r.pick(svcs);
          run += r.int(1, 20);
          return { type: "tool_call", resource: `repo:${svc}@${r.hex(7)}`, latencyMs: latency(r, 400) };
        case "ci.status": return { type: "api_request", resource: `pipeline:${svc}#${run}`, latencyMs: latency(r, 90) };
        case "deploy.staging": return { type: "tool_call", resource: `k8s:staging/${svc}`, latencyMs: latency(r, 15000, 0.5) };
        case "deploy.production": return { type: "tool_call", resource: `k8s:prod/${svc}`, latencyMs: latency(r, 30000, 0.5) };
        case "alerts.ack":
          svc = r.pick(svcs);
          return { type: "api_request", resource: `alert:${r.hex(10)}`, latencyMs: latency(r, 120) };
        case "metrics.query": return { type: "api_request", resource: `metric:${svc}.${r.pick(["p99_latency", "error_rate", "cpu", "memory", "rps"])}`, latencyMs: latency(r, 350, 0.6) };
        case "logs.read": return { type: "data_access", resource: `logs:${r.chance(0.8) ? "prod" : "staging"}/${svc}`, latencyMs: latency(r, 900, 0.7) };
        case "secrets.read": return { type: "data_access", resource: `secret:${svc}/db-password`, latencyMs: latency(r, 60) };
        default: return { type: "tool_call", resource: `k8s:prod/${svc}`, latencyMs: latency(r, 700, 0.6) };
      }
    };

    const m: AgentModel = {
      kind: "devops",
      profile: `${zone.name}, ${svcs.length} services, ${alertRate.toFixed(2)} alerts/h`,
      scopes,
      rhythm: { tzMin: zone.min, tzName: zone.name, hourly: officeHours(rng), weekday: weekdays(0.05) },
      sessionRate: rng.uniform(2, 7),
      lanes: 2,
      errorRate: rng.uniform(0.02, 0.05),
      chain,
      // CI polling waits tens of seconds; the rest is quick.
      session: (r) => chainSession(m, r, 25, (a, b, rr) => (a === "ci.status" && b === "ci.status" ? rr.lognormal(45_000, 0.5) : rr.lognormal(4000, 0.7))),
      // Alerts fire around the clock, weekends included: this agent has few truly dead hours.
      scheduled: (slot, _lt, r): Planned[] => {
        const out: Planned[] = [];
        for (let k = r.poisson(alertRate); k > 0; k--) {
          const acts = ["alerts.ack", ...walk({ start: m.chain.next["alerts.ack"] ?? {}, next: m.chain.next }, r, 10)];
          out.push({ t0: slot + r.int(0, 3_599_000), steps: acts.map((action, i) => ({ action, gapMs: i ? r.lognormal(8000, 0.6) : 0, ...emit(action, r) })) });
        }
        return out;
      },
      emit,
      adoptTool: (tool, r) => adoptInChain(m.chain, tool, r),
      growResources: (r) => {
        const fresh = SERVICES.filter((s) => !svcs.includes(s));
        const s = fresh.length ? r.pick(fresh) : `svc-${r.hex(3)}`;
        svcs.push(s, s);
        return [`repo:${s}@`, `k8s:staging/${s}`, `k8s:prod/${s}`, `logs:prod/${s}`, `logs:staging/${s}`, `metric:${s}.`, `pipeline:${s}#`, `secret:${s}/`];
      },
      hooks: {
        amountActions: [],
        sensitive: "secrets.read",
        unusedInScope: unusedOf(scopes, actionsOf(chain), ["ci.cancel", "deploy.canary", "alerts.silence", "k8s.describe", "logs.tail", "metrics.export"]),
        outOfScope: outOfScopeOf(scopes, ["iam.users.create", "dns.update", "storage.delete", "billing.read", ...RISKY_TOOLS]),
        exfil: { action: "k8s.get", type: "data_access", resource: (r) => `k8s:${r.pick(["prod", "staging", "kube-system", "payments", "data"])}/secret/${r.hex(8)}` },
      },
    };
    return m;
  },
};
