import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { OriginClient } from "./client.ts";
import { runSeries, sleep } from "./load.ts";
import { opensslSeries, opensslVersion } from "./openssl.ts";
import { startOrigin, type OriginProcess } from "./origin-process.ts";
import { formatRatio, formatTable } from "./report.ts";
import { mean, percentile, type SeriesResult } from "./stats.ts";

// Sized so the whole run stays well under three minutes on two cores; every loop is also time-bound.
const PLAN = {
  warmup: 5,
  kakunin1: { count: 60, maxMs: 40_000 },
  kakunin8: { count: 120, maxMs: 40_000 },
  paused: { count: 12, pauseMs: 250 },
  openssl1: { count: 40, maxMs: 40_000 },
  openssl8: { count: 80, maxMs: 40_000 },
} as const;

const root = mkdtempSync(join(tmpdir(), "kakunin-bench-"));
let origin: OriginProcess | undefined;

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

async function main(): Promise<void> {
  const cpu = cpus()[0]?.model ?? "unknown cpu";
  console.log(`issuance benchmark: ${availableParallelism()} cores (${cpu}), node ${process.version}, ${await opensslVersion()}`);

  const adminKey = randomBytes(24).toString("hex");
  const dataDir = join(root, "origin");
  origin = await startOrigin({ dataDir, adminKey });
  console.log(`origin: separate process (origin/src/main.ts under tsx, pid ${origin.pid}) at ${origin.baseUrl}; PGlite in ${dataDir}; local KeyManager`);
  const client = new OriginClient(origin.baseUrl, adminKey);

  // Every certify needs its own agent (a second one would be 409), all registered before timing.
  const total = PLAN.warmup + PLAN.kakunin1.count + PLAN.kakunin8.count + PLAN.paused.count;
  const agentIds: string[] = [];
  const registered = await runSeries({
    label: "register", count: total, concurrency: 4, maxMs: 60_000,
    async run(i) {
      agentIds.push(await client.createAgent(i));
    },
  });
  if (registered.truncated) throw new Error(`registered only ${agentIds.length} of ${total} agents in 60 s`);
  let cursor = 0;
  const certifyNext = () => {
    const id = agentIds[cursor++];
    if (!id) throw new Error("ran out of pre-registered agents");
    return client.certify(id);
  };
  console.log(`registered ${agentIds.length} agents; warming up with ${PLAN.warmup} certifies`);

  // The warm-up also drains the key pool, so the sustained series below starts from an empty pool.
  await runSeries({ label: "warmup", count: PLAN.warmup, concurrency: 1, maxMs: 60_000, run: certifyNext });
  const k1 = await runSeries({ label: "kakunin certify c=1", concurrency: 1, ...PLAN.kakunin1, run: certifyNext });
  console.log(`  done: ${k1.label}`);
  const k8 = await runSeries({ label: "kakunin certify c=8", concurrency: 8, ...PLAN.kakunin8, run: certifyNext });
  console.log(`  done: ${k8.label}`);
  // Idle long enough for the pool (4 pairs, 2 generating at a time) to be full again.
  await sleep(2500);
  const paused = await runSeries({
    label: `kakunin c=1, ${PLAN.paused.pauseMs} ms pauses`, concurrency: 1, maxMs: 30_000, ...PLAN.paused, run: certifyNext,
  });
  console.log(`  done: ${paused.label}`);
  await origin.stop();
  origin = undefined;

  const opensslDir = join(root, "openssl");
  mkdirSync(opensslDir);
  const o1 = await opensslSeries({ dir: opensslDir, concurrency: 1, ...PLAN.openssl1 });
  console.log(`  done: ${o1.label}`);
  const o8 = await opensslSeries({ dir: opensslDir, concurrency: 8, ...PLAN.openssl8 });
  console.log(`  done: ${o8.label}`);

  printReport({ k1, k8, paused, o1, o8 });
}

function printReport(r: Record<"k1" | "k8" | "paused" | "o1" | "o8", SeriesResult>): void {
  console.log("");
  console.log(formatTable([r.k1, r.k8, r.o1, r.o8, r.paused], { latencyOnly: new Set([r.paused]) }));
  console.log("");
  console.log(formatRatio(1, r.k1, r.o1));
  console.log(formatRatio(8, r.k8, r.o8));
  console.log("");
  const lat = (s: SeriesResult) =>
    `p50 ${percentile(s.latencies, 50).toFixed(1)} ms, p99 ${percentile(s.latencies, 99).toFixed(1)} ms, mean ${mean(s.latencies).toFixed(1)} ms`;
  console.log("key pool (4 pre-generated pairs, at most 2 generating in the background):");
  console.log(`  pool kept full (${PLAN.paused.pauseMs} ms pauses): ${lat(r.paused)}  <- no key generation on the request path`);
  console.log(`  back to back, c=1:               ${lat(r.k1)}`);
  console.log(`  back to back, c=8:               ${lat(r.k8)}`);
  console.log("  Back to back the pool is empty most of the time: requests then wait for RSA-2048 generation, so");
  console.log("  sustained certs/s is the machine's key generation rate, not the request path's.");
  console.log("(informational: a MISS does not fail the run; only errors exit non-zero)");
}

main()
  .catch((e: unknown) => {
    console.error(`benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
