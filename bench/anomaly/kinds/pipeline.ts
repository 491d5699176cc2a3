import { END, actionsOf } from "../chain.ts";
import {
  RISKY_TOOLS, chainSession, latency, outOfScopeOf, unusedOf,
  type AgentModel, type Emitted, type KindDef, type Planned, type Step,
} from "../model.ts";
import type { Rng } from "../../common/rng.ts";
import { ZONES, localTime, officeHours, weekdays, type LocalTime } from "../rhythm.ts";

const DATASETS = ["orders", "events", "sessions", "inventory", "payments", "clickstream", "shipments", "ads_spend", "crm_contacts", "web_logs", "returns", "pricing"];

/** The job workflow, as a chain: also what ad-hoc runs and impossible-sequence checks walk. */
const CHAIN = {
  start: { "warehouse.query": 1 },
  next: {
    "jobs.start": { "storage.list": 1 },
    "storage.list": { "storage.read": 1 },
    "storage.read": { "storage.read": 0.9, "warehouse.query": 0.1 },
    "warehouse.query": { "warehouse.query": 0.3, "storage.write": 0.5, [END]: 0.2 },
    "storage.write": { "storage.write": 0.6, "warehouse.load": 0.4 },
    "warehouse.load": { "jobs.complete": 0.97, "warehouse.export": 0.03 },
    "warehouse.export": { "jobs.complete": 1 },
    "jobs.complete": { [END]: 1 },
  },
};

interface Job {
  name: string;
  dataset: string;
  /** "hourly" at :minute, or daily at the listed local hours. */
  hours: number[] | "hourly";
  minute: number;
  parts: [number, number];
  /** Steps added later by a benign tool adoption. */
  extra: string[];
  exportEvery: number;
}

export const pipeline: KindDef = {
  name: "pipeline",
  create(rng): AgentModel {
    const zone = rng.pick(ZONES);
    const org = rng.pick(["acme", "globex", "initech", "umbrella", "hooli", "vandelay", "stark"]);
    const lake = `s3://${org}-lake`;
    const newJob = (dataset: string): Job => {
      const hourly = rng.chance(0.25);
      return {
        name: `${dataset}_${hourly ? "hourly" : "daily"}_etl`, dataset,
        hours: hourly ? "hourly" : rng.chance(0.3) ? [rng.int(0, 5), rng.int(12, 14)] : [rng.int(0, 6)],
        minute: rng.int(0, 59),
        parts: hourly ? [1, 4] : [8, 40], extra: [], exportEvery: rng.int(4, 10),
      };
    };
    const jobs = rng.sample(DATASETS, rng.int(2, 4)).map(newJob);
    const scopes = rng.chance(0.5)
      ? ["storage.read", "storage.write", "storage.list", "warehouse.*", "jobs.*"]
      : ["storage.*", "warehouse.query", "warehouse.load", "warehouse.export", "jobs.start", "jobs.complete"];
    let cur: Job = jobs[0]!;
    let dt = "1970-01-01";
    let runs = 0;
    const readLat = rng.uniform(40, 400);

    const emit = (action: string, r: Rng): Emitted => {
      const raw = `${lake}/raw/${cur.dataset}/dt=${dt}`;
      switch (action) {
        case "jobs.start":
        case "jobs.complete": return { type: "tool_call", resource: `job:${cur.name}`, latencyMs: latency(r, 120) };
        case "storage.list": return { type: "data_access", resource: `${raw}/`, latencyMs: latency(r, 150) };
        case "storage.read": return { type: "data_access", resource: `${raw}/part-${String(r.int(0, 63)).padStart(5, "0")}.parquet`, latencyMs: latency(r, readLat, 0.7) };
        case "storage.write": return { type: "data_access", resource: `${lake}/curated/${cur.dataset}/dt=${dt}/part-${String(r.int(0, 15)).padStart(5, "0")}.parquet`, latencyMs: latency(r, readLat * 1.5, 0.6) };
        case "warehouse.query": return { type: "data_access", resource: `table:staging.${cur.dataset}`, latencyMs: latency(r, 4000, 0.9) };
        case "warehouse.load": return { type: "data_access", resource: `table:analytics.${cur.dataset}`, latencyMs: latency(r, 9000, 0.7) };
        case "warehouse.export": return { type: "data_access", resource: `s3://${org}-partner-share/${cur.dataset}/dt=${dt}.csv.gz`, latencyMs: latency(r, 20000, 0.5) };
        default: return { type: "tool_call", resource: `table:analytics.${cur.dataset}`, latencyMs: latency(r, 800, 0.6) };
      }
    };
    const step = (action: string, gapMs: number, r: Rng): Step => ({ action, gapMs, ...emit(action, r) });

    const run = (job: Job, lt: LocalTime, r: Rng, scale: number): Step[] => {
      cur = job;
      const d = new Date(lt.day * 86_400_000);
      dt = job.hours === "hourly" ? `${d.toISOString().slice(0, 10)}/hour=${String(lt.hour).padStart(2, "0")}` : d.toISOString().slice(0, 10);
      const steps = [step("jobs.start", 0, r), step("storage.list", r.lognormal(800, 0.4), r)];
      const n = Math.round(r.int(job.parts[0], job.parts[1]) * Math.max(1, scale));
      for (let i = 0; i < n; i++) steps.push(step("storage.read", r.lognormal(300, 0.9), r));
      for (let i = r.int(1, 3); i > 0; i--) steps.push(step("warehouse.query", r.lognormal(1500, 0.5), r));
      for (const x of job.extra) steps.push(step(x, r.lognormal(1000, 0.5), r));
      for (let i = r.int(1, Math.max(1, n >> 3)); i > 0; i--) steps.push(step("storage.write", r.lognormal(400, 0.7), r));
      steps.push(step("warehouse.load", r.lognormal(1000, 0.5), r));
      // A weekly-ish partner export: the rare, sensitive step of this kind.
      if (++runs % job.exportEvery === 0 && job.hours !== "hourly") steps.push(step("warehouse.export", r.lognormal(2000, 0.5), r));
      steps.push(step("jobs.complete", r.lognormal(500, 0.4), r));
      return steps;
    };

    const m: AgentModel = {
      kind: "pipeline",
      profile: `${zone.name}, jobs ${jobs.map((j) => `${j.name}@${j.hours === "hourly" ? "hourly" : j.hours.join("/") + "h"}`).join(", ")}`,
      scopes,
      // Ad-hoc runs are analysts asking for a re-query during their office hours.
      rhythm: { tzMin: zone.min, tzName: zone.name, hourly: officeHours(rng), weekday: weekdays(0.05) },
      sessionRate: rng.uniform(0.1, 0.6),
      lanes: 2,
      errorRate: rng.uniform(0.01, 0.03),
      chain: CHAIN,
      session: (r) => chainSession(m, r, 6, (_a, _b, rr) => rr.lognormal(5000, 0.6)),
      scheduled: (slot, lt, r, scale): Planned[] => {
        const out: Planned[] = [];
        for (const job of jobs) {
          if (job.hours !== "hourly" && !job.hours.includes(lt.hour)) continue;
          // Schedulers start a little late; machines do not take holidays (scale < 1 is ignored).
          const t0 = slot + job.minute * 60_000 + r.int(0, 90_000);
          out.push({ t0, steps: run(job, localTime(t0, zone.min), r, scale) });
        }
        return out;
      },
      emit,
      adoptTool: (tool) => {
        for (const j of jobs) j.extra.push(tool);
      },
      growResources: (r) => {
        const fresh = DATASETS.filter((d) => !jobs.some((j) => j.dataset === d));
        const job = newJob(fresh.length ? r.pick(fresh) : `dataset_${r.int(10, 99)}`);
        jobs.push(job);
        return [`${lake}/raw/${job.dataset}/`, `${lake}/curated/${job.dataset}/`, `table:staging.${job.dataset}`, `table:analytics.${job.dataset}`, `job:${job.name}`];
      },
      hooks: {
        amountActions: [],
        sensitive: "warehouse.export",
        unusedInScope: unusedOf(scopes, actionsOf(CHAIN), ["warehouse.describe", "warehouse.vacuum", "jobs.retry", "storage.copy", "storage.head"]),
        outOfScope: outOfScopeOf(scopes, ["iam.roles.assume", "storage.delete", "warehouse.grant", ...RISKY_TOOLS]),
        exfil: {
          action: "storage.read", type: "data_access",
          resource: (r) => `s3://${org}-${r.pick(["finance", "hr", "legal", "customers", "backups"])}/${r.pick(["2023", "2024", "2025"])}/${r.hex(6)}/${r.hex(8)}.parquet`,
        },
      },
    };
    return m;
  },
};
