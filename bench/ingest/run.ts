/**
 * Ingest benchmark: events per second the edge accepts and scores on POST /v1/events, for one or
 * 100 agents and batches of 1 or 100, next to the same requests sent to the edge's no-op route.
 * See bench/README.md, "Ingest".
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupAll, installSignalHandlers, onCleanup } from "../common/cleanup.ts";
import { poster } from "./client.ts";
import { enrollAgents, waitEdgeKnows } from "./enroll.ts";
import { AgentStream, RequestSource } from "./events.ts";
import type { LoadPlan } from "../common/load.ts";
import { measureRow } from "./measure.ts";
import type { BandTally } from "./ops.ts";
import { groupListeningOn, settle } from "./procs.ts";
import { resultTable, type Row } from "./report.ts";
import { startSystem } from "./setup.ts";

// Sized for about 2.5 minutes on 2 busy cores; every loop is bounded by a count and a time.
const AGENTS = 100;
const CONCURRENCY = 16;
const ROWS = [
  { agents: 1, batch: 1 },
  { agents: 1, batch: 100 },
  { agents: AGENTS, batch: 1 },
  { agents: AGENTS, batch: 100 },
] as const;
const plan = (batch: number, durationMs: number): LoadPlan => ({ concurrency: CONCURRENCY, durationMs, maxRequests: (batch === 1 ? 30_000 : 2_000) * durationMs / 8_000 });
const MEASURE_MS = 8_000;
const WARMUP_MS = 1_000;
/** Requests a row may send to each target: one per agent, the warm-up's and the timed part's. */
const budget = (row: { agents: number; batch: number }): number =>
  row.agents + plan(row.batch, WARMUP_MS).maxRequests + plan(row.batch, MEASURE_MS).maxRequests;
/**
 * Before each baseline, wait (at most this long) until the edge and the origin are idle: the
 * Durable Objects forward the previous row's events to the origin from alarms, and that backlog
 * would otherwise load the machine during the next no-op run.
 */
const SETTLE_MAX_MS = 25_000;
const IDLE_CORES = 0.1;
/** Event times span at most this much, ending before "now" when the measurements start. */
const EVENT_SPAN_MS = 54 * 60_000;

const secs = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
const load1 = (): string => `load avg ${loadavg()[0]?.toFixed(2)}`;

/**
 * The event-time step per agent, so that even if every row used its whole request budget the
 * busiest agent (agent 0 is in every row) would stay within the span.
 */
function stepMs(): number {
  const perAgent0 = ROWS.reduce((sum, row) => sum + Math.ceil(budget(row) / row.agents) * row.batch, 0);
  return Math.max(1, Math.floor(EVENT_SPAN_MS / perAgent0));
}

async function main(): Promise<void> {
  installSignalHandlers();
  const root = mkdtempSync(join(tmpdir(), "kakunin-ingest-bench-"));
  onCleanup(() => rmSync(root, { recursive: true, force: true }));
  console.log(`ingest benchmark: ${availableParallelism()} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}, ${load1()}`);

  let t = performance.now();
  const { edge, origin, adminKey } = await startSystem(root);
  console.log(`edge (wrangler dev) ${edge.url}, origin ${origin.url}: ${secs(t)}`);
  t = performance.now();
  const enrolled = await enrollAgents(origin.url, adminKey, AGENTS, 8, 100_000);
  console.log(`${enrolled.length} agents registered, certified, each with an ingest token: ${secs(t)}`);
  t = performance.now();
  await waitEdgeKnows(edge.url, enrolled.map((a) => a.serial), 30_000);
  console.log(`edge knows all ${enrolled.length} certificates (+${secs(t)})`);

  // Both process groups are found by the port they listen on; absent off Linux (no CPU columns).
  const found = [groupListeningOn(edge.port), groupListeningOn(origin.port)];
  const groups = found.every((g) => g !== undefined) ? found : [];
  const client = poster(CONCURRENCY);
  onCleanup(() => client.close());
  const runId = randomBytes(4).toString("hex");
  const step = stepMs();
  const start = Date.now() - EVENT_SPAN_MS - 60_000;
  const agents = enrolled.map((a, i) => ({ token: a.token, stream: new AgentStream(`${runId}-a${i}`, start, step) }));
  console.log(`events: tool_call orders.place/orders.quote, ids unique, times from ${new Date(start).toISOString()} every ${step} ms per agent`);
  console.log(`each row: ${WARMUP_MS / 1000} s warm-up (not counted), then ${MEASURE_MS / 1000} s or the request budget, ${CONCURRENCY} requests in flight; no-op first, then Kakunin with the same requests`);

  const rows: Row[] = [];
  const bands: BandTally = {};
  let untimedErrors = 0;
  for (const spec of ROWS) {
    const label = `${spec.agents === 1 ? "1 agent" : `${spec.agents} agents`} × batch ${spec.batch}`;
    const source = new RequestSource(agents.slice(0, spec.agents), spec.batch);
    // The row's whole request budget (about 55 MB for batch 100), built before any timing.
    source.prepare(budget(spec));
    const waited = await settle(groups, IDLE_CORES, SETTLE_MAX_MS);
    console.log(`  (edge and origin ${waited === undefined ? `still busy after ${SETTLE_MAX_MS / 1000} s` : `idle after ${(waited / 1000).toFixed(1)} s`})`);
    const row = await measureRow(
      { label, agents: spec.agents, batch: spec.batch, warmup: plan(spec.batch, WARMUP_MS), timed: plan(spec.batch, MEASURE_MS) },
      source, { edgeUrl: edge.url, post: client.post, groups, bands },
    );
    rows.push(...row.rows);
    untimedErrors += row.untimedErrors;
  }

  console.log(`\n${resultTable(rows)}`);
  console.log(`\nbands Kakunin gave: ${Object.entries(bands).map(([b, n]) => `${b} ${n}`).join(", ")}`);
  console.log("cores = CPU seconds per wall second during the timed part (edge = wrangler dev's processes, origin = the origin, client = this process)");
  console.log("one agent's events are scored one request at a time in its Durable Object; 100 agents spread over 100 objects (in one local workerd)");
  if (untimedErrors > 0) console.log(`${untimedErrors} wrong responses during the untimed parts (first request per agent, warm-up)`);
  if (untimedErrors > 0 || rows.some((r) => r.r.errors > 0)) process.exitCode = 1;
}

const started = performance.now();
try {
  await main();
} catch (e) {
  console.error(e instanceof Error ? e.stack ?? e.message : String(e));
  process.exitCode = 1;
} finally {
  await cleanupAll();
  console.log(`total ${secs(started)}`);
}
