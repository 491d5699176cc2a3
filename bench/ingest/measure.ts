import { loadavg } from "node:os";
import type { RequestSource } from "./events.ts";
import { runLoad, type LoadPlan } from "../common/load.ts";
import { kakuninOp, noopOp, type BandTally } from "./ops.ts";
import { groupCpu } from "./procs.ts";
import type { Row } from "./report.ts";
import type { HttpResponse } from "../common/http-client.ts";

export interface RowSpec {
  label: string;
  agents: number;
  batch: number;
  warmup: LoadPlan;
  timed: LoadPlan;
}

export interface Target {
  edgeUrl: string;
  post: (url: string, token: string, body: Buffer) => Promise<HttpResponse>;
  /** [edge, origin] process groups for the CPU columns; empty when they could not be found. */
  groups: readonly number[];
  bands: BandTally;
}

/**
 * One row: the no-op first, then Kakunin, with the same requests. Each gets one request per agent
 * (so no Durable Object is created while timed), a warm-up, then the timed part with the CPU each
 * process group used. Errors during the untimed parts are returned too: every response is checked.
 */
export async function measureRow(spec: RowSpec, source: RequestSource, t: Target): Promise<{ rows: Row[]; untimedErrors: number }> {
  const rows: Row[] = [];
  let untimedErrors = 0;
  for (const target of ["noop", "kakunin"] as const) {
    source.rewind();
    const op = target === "noop" ? noopOp(t.post, t.edgeUrl, source) : kakuninOp(t.post, t.edgeUrl, source, t.bands);
    untimedErrors += (await runLoad(`${spec.label} ${target} first request per agent`, { concurrency: spec.timed.concurrency, durationMs: 10_000, maxRequests: spec.agents }, op)).errors;
    untimedErrors += (await runLoad(`${spec.label} ${target} warm-up`, spec.warmup, op)).errors;
    const [cpu0, gen0] = [groupCpu(t.groups), process.cpuUsage()];
    // The no-op may outrun the request budget (it replays the requests then): let time bound it.
    const r = await runLoad(`${spec.label} ${target}`, target === "noop" ? { ...spec.timed, maxRequests: spec.timed.maxRequests * 4 } : spec.timed, op);
    const [cpu1, gen1] = [groupCpu(t.groups), process.cpuUsage(gen0)];
    const wallS = r.elapsedMs / 1000;
    const cores = (i: number): number => (t.groups.length === 2 ? (cpu1[i]! - cpu0[i]!) / wallS : Number.NaN);
    rows.push({ label: spec.label, target, batch: spec.batch, r, cores: { edge: cores(0), origin: cores(1), client: (gen1.user + gen1.system) / 1e6 / wallS } });
    console.log(`  ${spec.label}, ${target}: ${((r.ok * spec.batch) / wallS).toFixed(0)} events/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms, ${r.errors} errors (load avg ${loadavg()[0]?.toFixed(2)})`);
    if (r.firstError) console.log(`    first error: ${r.firstError}`);
  }
  return { rows, untimedErrors };
}
