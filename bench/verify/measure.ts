import { loadavg } from "node:os";
import type { HttpClient } from "../common/http-client.ts";
import { cpuSince, type ProcCpu } from "./edge-procs.ts";
import { runLoad, type LoadPlan, type LoadResult } from "../common/load.ts";
import type { Op } from "./targets.ts";

export interface Measured extends LoadResult {
  /** CPU ms per successful request: the load generator, and each watched process. */
  cpuMsPerReq: Map<string, number>;
  /** The watched processes changed during the run (a wrangler dev reload). */
  restarted: boolean;
}

/** A warm-up (opens connections, lets both sides JIT; not counted), then the measured run. */
export async function measured(label: string, plan: LoadPlan, warmup: LoadPlan, op: Op, client: HttpClient, watch: () => readonly ProcCpu[] = () => []): Promise<Measured> {
  await runLoad(label, warmup, op(client));
  const procs = cpuSince(watch);
  const gen = process.cpuUsage();
  const r = await runLoad(label, plan, op(client));
  const genUsage = process.cpuUsage(gen);
  const per = (seconds: number): number => (r.ok > 0 ? (seconds * 1000) / r.ok : Number.NaN);
  const cpuMsPerReq = new Map<string, number>([["load generator", per((genUsage.user + genUsage.system) / 1e6)]]);
  const used = procs();
  for (const [name, s] of used.seconds) cpuMsPerReq.set(name, per(s));
  console.log(`  ${label}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.errors} errors (load avg ${loadavg()[0]?.toFixed(2)})`);
  if (r.firstError) console.log(`    first error: ${r.firstError}`);
  if (used.changed) console.log("    the edge's workerd processes changed during this run (wrangler dev reloaded): CPU split unreliable");
  return { ...r, cpuMsPerReq, restarted: used.changed };
}
