import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { mkdtempSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { runSeries } from "./load.ts";
import { nodeKeygenSeries } from "./node-keygen.ts";
import { childrenCpuS, cpuTimes } from "./proc-cpu.ts";
import { genrsaSeries, opensslVersion } from "./openssl.ts";
import type { OriginProcess } from "./origin-process.ts";
import { waitForFullPool } from "./pool.ts";
import { formatReport, TARGET_P99_MS, TARGET_RATIO, type OriginResult } from "./report.ts";
import { startSession } from "./session.ts";
import { perSecond } from "./stats.ts";

/**
 * Issue 16 goal 8 (`pnpm bench:issuance [--before <checkout>]`): sustained certify/s against the
 * machine's RSA-2048 generation limit (`openssl genrsa` on every core, measured before and after
 * the origins in the same run), and certify latency from a warm pool. `--before` runs another
 * checkout's origin (e.g. a worktree of main) through the same steps, for a before/after table.
 */
const cores = availableParallelism();
const PLAN = {
  baselineMs: 15_000,
  nodeKeygenMs: 10_000,
  pool: 64,
  // Fewer than the pool, so every burst certify claims a ready key.
  burst: { count: 48, concurrency: 1, maxMs: 30_000 },
  poolWaitMs: 60_000,
  // Long enough that the pool drains in the first half; the rate is taken over the second half.
  sustained: { count: 1000, concurrency: Math.max(8, 2 * cores), maxMs: 40_000 },
} as const;

const beforeAt = process.argv.indexOf("--before");
const beforeMain = beforeAt > 0 && process.argv[beforeAt + 1] ? join(resolve(process.argv[beforeAt + 1]!), "origin/src/main.ts") : undefined;

const root = mkdtempSync(join(tmpdir(), "kakunin-bench-"));
let origin: OriginProcess | undefined;
async function cleanup(): Promise<void> {
  await origin?.stop();
  origin = undefined;
  rmSync(root, { recursive: true, force: true });
}
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void cleanup().finally(() => process.exit(130)));
const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");

/** `blindMs`: how long to wait for a full pool when the origin exports no pool gauge. */
async function measureOrigin(name: string, mainPath: string | undefined, blindMs: number): Promise<OriginResult> {
  const agents = 3 + PLAN.burst.count + PLAN.sustained.count;
  const s = await startSession({ root, name, keyPool: PLAN.pool, mainPath, agents, onStarted: (o) => (origin = o) });
  console.log(`origin "${name}" (pid ${s.origin.pid}, KAKUNIN_LOCAL_KEY_POOL=${PLAN.pool}) at ${s.origin.baseUrl}; ${agents} agents registered`);
  await runSeries({ label: "warmup", count: 3, concurrency: 1, maxMs: 60_000, run: () => s.certifyNext() });
  const before = await waitForFullPool(s.client, PLAN.poolWaitMs, blindMs);
  if (!before.full) console.log(`  pool only ${before.status.ready}/${before.status.target} after ${PLAN.poolWaitMs / 1000} s: the burst may include misses`);
  const b0 = cpuTimes(s.origin.pid);
  const burst = await runSeries({ label: `certify c=${PLAN.burst.concurrency}, warm pool`, ...PLAN.burst, run: () => s.certifyNext() });
  const b1 = cpuTimes(s.origin.pid);
  // The latency floor on an idle core: event-loop CPU per warm certify (the refill runs on other threads).
  const warmMainMs = b0 && b1 && burst.latencies.length > 0 ? ((b1.mainThreadS - b0.mainThreadS) * 1000) / burst.latencies.length : Number.NaN;
  console.log(`  done: burst (pool ${before.status.ready}/${before.status.target} at start, waited ${(before.waitedMs / 1000).toFixed(1)} s); load ${load()}`);
  const cpu0 = cpuTimes(s.origin.pid);
  const sustained = await runSeries({ label: `certify c=${PLAN.sustained.concurrency}, sustained`, ...PLAN.sustained, run: () => s.certifyNext() });
  const cpu1 = cpuTimes(s.origin.pid);
  const n = sustained.latencies.length;
  const cpu = cpu0 && cpu1 && n > 0
    ? { processMs: ((cpu1.processS - cpu0.processS) * 1000) / n, mainThreadMs: ((cpu1.mainThreadS - cpu0.mainThreadS) * 1000) / n }
    : undefined;
  const readyAfter = (await s.client.poolStatus())?.ready ?? Number.NaN;
  console.log(`  done: sustained ${sustained.latencies.length} certifies in ${(sustained.elapsedMs / 1000).toFixed(1)} s; load ${load()}`);
  await s.origin.stop();
  origin = undefined;
  return { name, burst, sustained, readyAfter, cpu, warmMainMs };
}

async function main(): Promise<void> {
  console.log(`issuance benchmark: ${cores} cores (${cpus()[0]?.model ?? "unknown cpu"}), node ${process.version} (OpenSSL ${process.versions.openssl}), ${await opensslVersion()}`);
  console.log(`load average at start: ${load()}  (1/5/15 min; well above 0 means other work shares these cores)`);
  const c0 = childrenCpuS();
  const g1 = await genrsaSeries({ processes: cores, ms: PLAN.baselineMs, label: `openssl genrsa 2048 x${cores} (start)` });
  const c1 = childrenCpuS();
  const own0 = cpuTimes(process.pid);
  const nk = await nodeKeygenSeries({ threads: cores, ms: PLAN.nodeKeygenMs });
  const own1 = cpuTimes(process.pid);
  const keygenCpuMs = own0 && own1 ? ((own1.processS - own0.processS) * 1000) / nk.latencies.length : Number.NaN;
  console.log(`  done: baselines ${perSecond(g1).toFixed(2)} / ${perSecond(nk).toFixed(2)} keys/s; load ${load()}`);
  // main's filler makes one key at a time: a full refill takes pool x (one thread's time per key), doubled for noise.
  const blindMs = Math.min(PLAN.poolWaitMs, Math.ceil((2 * PLAN.pool * cores * 1000) / perSecond(nk)));
  const origins = [await measureOrigin("this checkout", undefined, blindMs)];
  if (beforeMain) origins.push(await measureOrigin("--before", beforeMain, blindMs));
  const c2 = childrenCpuS();
  const g2 = await genrsaSeries({ processes: cores, ms: PLAN.baselineMs, label: `openssl genrsa 2048 x${cores} (end)` });
  // CPU per key of the openssl processes (load-independent, unlike keys/s on a shared machine).
  const genrsaCpuMs = ((c1 - c0 + childrenCpuS() - c2) * 1000) / (g1.latencies.length + g2.latencies.length);
  const genrsa = (perSecond(g1) + perSecond(g2)) / 2;
  console.log("");
  console.log(formatReport([g1, g2, nk], genrsa, perSecond(nk), origins));
  console.log(`CPU per key: openssl genrsa ${genrsaCpuMs.toFixed(0)} ms, node keygen ${keygenCpuMs.toFixed(0)} ms (all threads of this process)`);
  for (const o of origins) {
    if (!o.cpu) continue;
    // With every core busy, rates are inverse to CPU per item: the ratio other load cannot skew.
    console.log(`"${o.name}": CPU-bound ratio = ${(genrsaCpuMs / o.cpu.processMs).toFixed(2)}x genrsa, ${(keygenCpuMs / o.cpu.processMs).toFixed(2)}x node keygen; ` +
      `event-loop ceiling ${(1000 / o.cpu.mainThreadMs).toFixed(1)} certify/s (${o.cpu.mainThreadMs.toFixed(0)} ms of main-thread CPU each); ` +
      `warm certify ${o.warmMainMs.toFixed(0)} ms of main-thread CPU each`);
  }
  console.log("");
  console.log(`sustained = c=${PLAN.sustained.concurrency} closed loop, up to ${PLAN.sustained.count} certifies / ${PLAN.sustained.maxMs / 1000} s; rate over its second half (the pool of ${PLAN.pool} drains in the first).`);
  console.log(`warm = ${PLAN.burst.count} certifies at c=${PLAN.burst.concurrency} from a full pool of ${PLAN.pool}. goal: >= ${TARGET_RATIO}x genrsa and warm p99 < ${TARGET_P99_MS} ms.`);
  console.log(`load average at end: ${load()}  (informational: a MISS does not fail the run; only errors exit non-zero)`);
}

main()
  .catch((e: unknown) => {
    console.error(`benchmark failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
