/**
 * Verify benchmark: throughput and latency of the edge's GET /v1/verify/:serial against two
 * baselines (a bare node:http Map server and `openssl ocsp`), then how long a revocation at the
 * origin takes to show at the edge. See bench/README.md, "Verify".
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../../test/support/system.ts";
import { startChild } from "./child.ts";
import { cleanupAll, installSignalHandlers, onCleanup } from "../common/cleanup.ts";
import { fetchClient, nodeHttpClient, type HttpClient } from "../common/http-client.ts";
import { edgeProcesses, runtimeEntryUrl } from "./edge-procs.ts";
import type { LoadPlan, LoadResult } from "../common/load.ts";
import { measured, type Measured } from "./measure.ts";
import { startOcspResponder } from "./ocsp-responder.ts";
import { fakeRecords, publishRecords } from "./records.ts";
import { cpuTable, latencyTable, loadTable, ratio } from "./report.ts";
import { issueCerts, measureRevocations, waitAllActive } from "./revocation.ts";
import { startSystem } from "./setup.ts";
import { percentile } from "../common/stats.ts";
import { max } from "./stats.ts";
import { healthzOp, ocspOp, unknownSerialOp, verifyOp, } from "./targets.ts";

// Sized for under 4 minutes on 2 busy cores; every loop is bounded by a count and a time.
const PLAN = {
  records: 10_000,
  revokedEvery: 100,
  publishBatch: 1000,
  load: { concurrency: 50, durationMs: 10_000, maxRequests: 400_000 } satisfies LoadPlan,
  diagnostic: { concurrency: 50, durationMs: 4_000, maxRequests: 200_000 } satisfies LoadPlan,
  trial: { concurrency: 50, durationMs: 2_000, maxRequests: 100_000 } satisfies LoadPlan,
  warmup: { concurrency: 50, durationMs: 1_000, maxRequests: 50_000 } satisfies LoadPlan,
  opensslLeaves: 200,
  opensslWorkers: 2,
  revocations: 200,
  issueWidth: 8,
  issueMaxMs: 75_000,
  revokeTimeoutMs: 10_000,
} as const;

const BENCH_DIR = resolve(import.meta.dirname, "..");
const secs = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
const load1 = (): string => `load avg ${loadavg()[0]?.toFixed(2)}`;
const stats = (label: string, xs: number[]) => ({ label, n: xs.length, p50: percentile(xs, 50), p99: percentile(xs, 99), max: max(xs) });

async function main(): Promise<void> {
  installSignalHandlers();
  const root = mkdtempSync(join(tmpdir(), "kakunin-verify-bench-"));
  onCleanup(() => rmSync(root, { recursive: true, force: true }));
  const openssl = execFileSync("openssl", ["version"], { encoding: "utf8" }).trim();
  console.log(`verify benchmark: ${availableParallelism()} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}, ${openssl}, ${load1()}`);

  // 1. Edge, origin and the openssl CA; then the 10k records and the origin's certificates,
  // loaded side by side (setup only: nothing is timed while both run).
  let t = performance.now();
  const { edge, origin, secret, adminKey, ca } = await startSystem(root, { leaves: PLAN.opensslLeaves, revokedEvery: PLAN.revokedEvery });
  console.log(`edge (wrangler dev) ${edge.url}, origin ${origin.url}, openssl CA with ${ca.leaves.length} leaves: ${secs(t)}`);
  t = performance.now();
  const records = fakeRecords(PLAN.records, PLAN.revokedEvery);
  const [publishS, issued] = await Promise.all([
    publishRecords(edge.url, secret, records, PLAN.publishBatch).then((p) => ({ ...p, s: (performance.now() - t) / 1000 })),
    issueCerts(origin.url, adminKey, PLAN.revocations, PLAN.issueWidth, PLAN.issueMaxMs).then((c) => ({ certs: c, s: (performance.now() - t) / 1000 })),
  ]);
  console.log(`loaded ${records.length} records (${records.filter((r) => r.status === "revoked").length} revoked) via signed POST /internal/v1/publish, batches of ${PLAN.publishBatch}: ${publishS.s.toFixed(1)} s${publishS.retries ? ` (${publishS.retries} batch(es) re-sent after a wrangler restart)` : ""}`);
  console.log(`issued ${issued.certs.length} certificates via the origin API, ${PLAN.issueWidth} at a time: ${issued.s.toFixed(1)} s`);

  // 3a/3b. Baselines, each in its own process so none shares the load generator's event loop.
  const recordsFile = join(root, "records.json");
  writeFileSync(recordsFile, JSON.stringify(records));
  const mapServer = await startChild(process.execPath, ["--import", "tsx", join(BENCH_DIR, "verify/map-server.ts"), recordsFile], {
    cwd: BENCH_DIR, ready: /listening (\d+)/, timeoutMs: 30_000, detached: true,
  });
  onCleanup(() => mapServer.stop());
  const mapUrl = `http://127.0.0.1:${mapServer.ready}`;
  const ocspPort = await freePort();
  const responder = await startOcspResponder(ca.dir, ocspPort, PLAN.opensslWorkers);
  onCleanup(() => responder.stop());
  const ocspUrl = `http://127.0.0.1:${ocspPort}/`;
  console.log(`baselines: node:http Map server (pid ${mapServer.pid}) ${mapUrl}; openssl ocsp -multi ${PLAN.opensslWorkers} (pid ${responder.pid}) ${ocspUrl}`);

  const candidates = [fetchClient(), nodeHttpClient(PLAN.load.concurrency)];
  for (const c of candidates) onCleanup(() => c.close());
  const edgeVerify = verifyOp(edge.url, records);
  const mapVerify = verifyOp(mapUrl, records);
  const ocsp = ocspOp(ocspUrl, ca.leaves, ca.requests);
  // One checked request per target first, so a dead target fails the run instead of a table of errors.
  for (const op of [edgeVerify, mapVerify, ocsp]) await op(candidates[1]!)();
  t = performance.now();
  await waitAllActive(candidates[1]!, edge.url, issued.certs.map((c) => c.serial), 60_000);
  console.log(`all ${issued.certs.length} issued certificates active at the edge (+${secs(t)})`);

  // 2. Which client? Short trials of both against the Map server and the edge; the faster one on
  // the Map server (where client overhead weighs most) is used for every target.
  console.log(`client trial (${PLAN.trial.durationMs / 1000} s each, c=${PLAN.trial.concurrency}):`);
  const trial: { client: HttpClient; map: LoadResult; edge: LoadResult }[] = [];
  for (const client of candidates) {
    trial.push({
      client,
      map: await measured(`Map server via ${client.name}`, PLAN.trial, PLAN.warmup, mapVerify, client),
      edge: await measured(`edge via ${client.name}`, PLAN.trial, PLAN.warmup, edgeVerify, client),
    });
  }
  const client = trial.reduce((a, b) => (b.map.rps > a.map.rps ? b : a)).client;
  console.log(`using ${client.name} for every target`);

  console.log(`load (${PLAN.load.durationMs / 1000} s or ${PLAN.load.maxRequests} requests each, c=${PLAN.load.concurrency}, after a ${PLAN.warmup.durationMs / 1000} s warm-up):`);
  // Looked up afresh for every run: a wrangler dev reload replaces the runtime process.
  const watch = () => edgeProcesses(edge.port);
  const edgeR = await measured("edge GET /v1/verify/:serial", PLAN.load, PLAN.warmup, edgeVerify, client, watch);
  const mapR = await measured("Node http + Map", PLAN.load, PLAN.warmup, mapVerify, client);
  const osslR = await measured(`openssl ocsp -multi ${PLAN.opensslWorkers} (POST)`, PLAN.load, PLAN.warmup, ocsp, client);
  const headline = [edgeR, mapR, osslR];
  await Promise.all([mapServer.stop(), responder.stop()]);

  // Where does the edge's time go? The same load on cheaper routes, and straight to the runtime
  // workerd (past wrangler dev's proxy), with the CPU each workerd spends per request.
  const direct = await runtimeEntryUrl(watch());
  console.log(`edge diagnostics (${PLAN.diagnostic.durationMs / 1000} s each); runtime entry socket: ${direct ?? "not found, direct rows skipped"}`);
  const diagPlan = [
    ["edge GET /healthz (no KV)", healthzOp(edge.url)],
    ["edge verify ?consistency=strong (DO + 1 KV)", verifyOp(edge.url, records, "?consistency=strong")],
    ...(direct ? [
      ["direct: GET /healthz (no KV)", healthzOp(direct)],
      ["direct: verify unknown serial (1 KV miss)", unknownSerialOp(direct)],
      ["direct: GET /v1/verify/:serial (2 KV reads)", verifyOp(direct, records)],
    ] as const : []),
  ] as const;
  const diag: Measured[] = [];
  for (const [label, op] of diagPlan) diag.push(await measured(label, PLAN.diagnostic, PLAN.warmup, op, client, watch));

  // 4. Revocation → edge, one at a time, with the real origin publishing to this edge.
  const rev = await measureRevocations(client, origin.url, edge.url, adminKey, issued.certs, PLAN.revokeTimeoutMs);

  console.log(`\n${loadTable([...headline, ...diag])}`);
  console.log(`\nclient trial: ${trial.map((x) => `${x.client.name}: Map ${x.map.rps.toFixed(0)}/s, edge ${x.edge.rps.toFixed(0)}/s`).join("; ")}`);
  console.log(`edge / Node-Map: ${ratio(edgeR.rps, mapR.rps)} req/s, p50 ${ratio(edgeR.p50, mapR.p50)}`);
  console.log(`edge / openssl:  ${ratio(edgeR.rps, osslR.rps)} req/s, p50 ${ratio(edgeR.p50, osslR.p50)}`);
  console.log(`edge verify / edge healthz: ${ratio(edgeR.rps, diag[0]!.rps)} req/s`);
  console.log(`\nCPU ms per request (${watch().length ? "from /proc" : "edge processes not found"}; * = wrangler reloaded during that run):\n${cpuTable([edgeR, ...diag])}`);
  console.log(`\nrevocation → edge (${issued.certs.length} revocations one at a time, edge polled every ~5 ms from t0; ${rev.timeouts} not seen within ${PLAN.revokeTimeoutMs / 1000} s):`);
  console.log(latencyTable([
    stats("t0 → edge says revoked", rev.samples.map((s) => s.visibleMs)),
    stats("t0 → origin's 200 to the revoke POST", rev.samples.map((s) => s.revokeMs)),
    stats("origin's 200 → edge says revoked", rev.samples.map((s) => s.visibleMs - s.revokeMs)),
  ]));
  const failed = [...headline, ...diag].reduce((n, r) => n + r.errors, 0) + rev.timeouts;
  if (failed > 0) process.exitCode = 1;
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
