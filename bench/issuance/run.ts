import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { runSeries } from "./load.ts";
import { opensslSeries, opensslVersion } from "./openssl.ts";
import type { OriginProcess } from "./origin-process.ts";
import { waitForFullPool, type PoolWait } from "./pool.ts";
import { formatTable, TARGET_RATIO, type Row } from "./report.ts";
import { startSession, type Session } from "./session.ts";
import type { SeriesResult } from "./stats.ts";

// Sized so the whole run stays around two minutes on two cores; every loop is also time-bound.
const PLAN = {
  warmup: 3,
  // Below the default pool of 32, so a burst that starts from a full pool is all pool hits.
  burst: { count: 24, maxMs: 25_000 },
  poolWaitMs: 45_000,
  sustained1: { count: 40, maxMs: 25_000 },
  sustained8: { count: 80, maxMs: 25_000 },
  openssl1: { count: 40, maxMs: 25_000 },
  openssl8: { count: 80, maxMs: 25_000 },
} as const;

const root = mkdtempSync(join(tmpdir(), "kakunin-bench-"));
let origin: OriginProcess | undefined;
const track = (o: OriginProcess) => {
  origin = o;
};

async function cleanup(): Promise<void> {
  await origin?.stop();
  origin = undefined;
  rmSync(root, { recursive: true, force: true });
}

// Ctrl-C must not leave an origin process or a PGlite directory behind.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

const load1 = () => loadavg()[0]?.toFixed(2) ?? "?";

interface Burst {
  series: SeriesResult;
  before: PoolWait;
  readyAfter: number;
}

/** Waits for a full pool, then times `count` certifies; ready ≥ count at the start means all hits. */
async function burst(s: Session, concurrency: number): Promise<Burst> {
  const before = await waitForFullPool(s.client, PLAN.poolWaitMs);
  const { ready, target } = before.status;
  const label = `certify c=${concurrency}, pool ${ready}/${target}`;
  const series = await runSeries({ label, concurrency, ...PLAN.burst, run: () => s.certifyNext() });
  const readyAfter = (await s.client.poolStatus())?.ready ?? 0;
  console.log(`  done: burst ${label} (waited ${(before.waitedMs / 1000).toFixed(1)} s for the pool${before.full ? "" : ", deadline hit"}; ${readyAfter} ready after)`);
  return { series, before, readyAfter };
}

async function pooled(): Promise<Burst[]> {
  const s = await startSession({ root, name: "pooled", agents: PLAN.warmup + 2 * PLAN.burst.count, onStarted: track });
  console.log(`origin A (default KAKUNIN_LOCAL_KEY_POOL, pid ${s.origin.pid}) at ${s.origin.baseUrl}`);
  // Warm the JIT and the DB first; these take pool keys, which the wait below gives back.
  await runSeries({ label: "warmup", count: PLAN.warmup, concurrency: 1, maxMs: 60_000, run: () => s.certifyNext() });
  const bursts = [await burst(s, 1), await burst(s, 8)];
  await s.origin.stop();
  origin = undefined;
  return bursts;
}

async function inline(): Promise<SeriesResult[]> {
  const agents = PLAN.warmup + PLAN.sustained1.count + PLAN.sustained8.count;
  const s = await startSession({ root, name: "inline", keyPool: 0, agents, onStarted: track });
  console.log(`origin B (KAKUNIN_LOCAL_KEY_POOL=0, pid ${s.origin.pid}) at ${s.origin.baseUrl}`);
  await runSeries({ label: "warmup", count: PLAN.warmup, concurrency: 1, maxMs: 60_000, run: () => s.certifyNext() });
  const out: SeriesResult[] = [];
  for (const [concurrency, plan] of [[1, PLAN.sustained1], [8, PLAN.sustained8]] as const) {
    out.push(await runSeries({ label: `certify c=${concurrency}, keygen inline`, concurrency, ...plan, run: () => s.certifyNext() }));
    console.log(`  done: sustained c=${concurrency}`);
  }
  await s.origin.stop();
  origin = undefined;
  return out;
}

async function main(): Promise<void> {
  const cpu = cpus()[0]?.model ?? "unknown cpu";
  console.log(`issuance benchmark: ${availableParallelism()} cores (${cpu}), node ${process.version}, ${await opensslVersion()}`);
  console.log(`load average (1 min) at start: ${load1()}  (anything well above 0 means other work shares these cores)`);

  // One origin at a time and openssl last, so no series competes with another one of ours.
  const [b1, b8] = await pooled();
  const [s1, s8] = await inline();
  const dir = join(root, "openssl");
  mkdirSync(dir);
  const o1 = await opensslSeries({ dir, concurrency: 1, ...PLAN.openssl1 });
  console.log(`  done: ${o1.label}`);
  const o8 = await opensslSeries({ dir, concurrency: 8, ...PLAN.openssl8 });
  console.log(`  done: ${o8.label}`);
  if (!b1 || !b8 || !s1 || !s8) throw new Error("a series is missing");

  const rows: Row[] = [
    { regime: "burst (pool ready)", series: b1.series, kakunin: true },
    { regime: "burst (pool ready)", series: b8.series, kakunin: true },
    { regime: "sustained (pool 0)", series: s1, kakunin: true },
    { regime: "sustained (pool 0)", series: s8, kakunin: true },
    { regime: "baseline", series: o1 },
    { regime: "baseline", series: o8 },
  ];
  console.log("");
  console.log(formatTable(rows, { seq: o1, par: o8 }));
  console.log("");
  for (const b of [b1, b8]) {
    const hits = b.before.status.ready >= b.series.latencies.length ? "every certify claimed a ready key" : "NOT all pool hits (pool was short at the start)";
    console.log(`burst c=${b.series.concurrency}: ${b.before.status.ready}/${b.before.status.target} ready at start, ${b.readyAfter} after: ${hits}`);
  }
  console.log(`x seq = certs/s over the sequential openssl loop; the target is >= ${TARGET_RATIO}x that. x 8-par = over 8 openssl`);
  console.log("processes at once, shown for c=8 rows as the like-for-like comparison (both use both cores).");
  console.log("Bursts are limited by the request path; sustained issuance by RSA-2048 generation, the same work openssl does.");
  console.log(`load average (1 min) at end: ${load1()}`);
  console.log("(informational: a MISS does not fail the run; only errors exit non-zero)");
}

main()
  .catch((e: unknown) => {
    console.error(`benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
