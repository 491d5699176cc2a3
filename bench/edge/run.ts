/**
 * Edge benchmark for issue 16 goals 1, 2 and 7, every figure a ratio against a baseline measured
 * in the same run, interleaved round by round so both sides see the same machine load:
 * - verify (random serials of 10k, and a hot set of 64) vs the edge's own GET /healthz;
 * - edge OCSP (POST and the RFC 5019 GET form) vs `openssl ocsp`, for the same DER requests about
 *   the same certificates (the edge serves the responses openssl pre-signed for them);
 * - ledger publish throughput (records/s, publish POST → KV) with N shards vs 1 shard;
 * - revocation at the origin → visible at the edge (p99 must stay < 1 s).
 * See bench/README.md, "Edge".
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startOrigin } from "../../test/support/system.ts";
import { cleanupAll, installSignalHandlers, onCleanup } from "../common/cleanup.ts";
import { nodeHttpClient } from "../common/http-client.ts";
import { percentile } from "../common/stats.ts";
import { startBenchEdge } from "../ingest/edge.ts";
import { edgeProcesses } from "../verify/edge-procs.ts";
import { measured } from "../verify/measure.ts";
import { buildOpensslCa } from "../verify/openssl-ca.ts";
import { startOcspResponder } from "../verify/ocsp-responder.ts";
import { fakeRecords } from "../verify/records.ts";
import { issueCerts, measureRevocations, waitAllActive } from "../verify/revocation.ts";
import { max } from "../verify/stats.ts";
import { healthzOp, ocspOp, verifyOp } from "../verify/targets.ts";
import { ocspGetOp } from "./ops.ts";
import { presignedOcspRecords } from "./ocsp-fixture.ts";
import { publishRate, type PublishRate } from "./publish-rate.ts";
import { summary, type Round } from "./report.ts";

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};

const PLAN = {
  records: 10_000,
  hotSet: 8,
  shards: arg("shards", 8),
  publishBatch: 1000,
  rounds: arg("rounds", 3),
  load: { concurrency: 50, durationMs: arg("seconds", 3) * 1000, maxRequests: 200_000 },
  warmup: { concurrency: 50, durationMs: 500, maxRequests: 20_000 },
  leaves: 200,
  revocations: arg("revocations", 60),
} as const;

const load1 = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" ");

async function main(): Promise<void> {
  installSignalHandlers();
  const root = mkdtempSync(join(tmpdir(), "kakunin-edge-bench-"));
  onCleanup(() => rmSync(root, { recursive: true, force: true }));
  console.log(`edge benchmark: ${availableParallelism()} cores (${cpus()[0]?.model ?? "?"}), node ${process.version}, load avg ${load1()}`);
  for (const d of ["edge", "edge1", "origin", "openssl"]) mkdirSync(join(root, d));
  const secret = randomBytes(32).toString("base64url");
  const adminKey = `edge-bench-${randomBytes(12).toString("hex")}`;
  const [edgePort, edge1Port, originPort] = [await freePort(), await freePort(), await freePort()];
  const originUrl = `http://127.0.0.1:${originPort}`;
  // The origin starts last: it publishes in its own epoch (n ≥ 1), after which batches without an
  // epoch (these fake records, legacy epoch 0) would be refused as stale; records already held stay.
  const [edge, edge1, ca] = await Promise.all([
    startBenchEdge({ port: edgePort, persistDir: join(root, "edge"), originUrl, secret, vars: { KAKUNIN_LEDGER_SHARDS: String(PLAN.shards) } }),
    startBenchEdge({ port: edge1Port, persistDir: join(root, "edge1"), originUrl: "http://127.0.0.1:9", secret, vars: { KAKUNIN_LEDGER_SHARDS: "1" } }),
    buildOpensslCa(join(root, "openssl"), PLAN.leaves, 100),
  ]);
  for (const p of [edge, edge1]) onCleanup(() => p.stop());

  // Goal 7: the same 10k records in batches of 1000, alternating halves between the N-shard and the
  // 1-shard edge so both see the same load; the N-shard edge keeps its records for the load phase.
  // Every record must be applied (a batch refused as stale would look fast).
  const records = fakeRecords(PLAN.records, 100);
  const other = fakeRecords(PLAN.records, 100);
  const half = PLAN.records / 2;
  const pub: PublishRate[] = [];
  for (const [from, to] of [
    [0, half],
    [half, PLAN.records],
  ] as const) {
    pub.push(await publishRate(`${PLAN.shards} shards`, edge.url, secret, records.slice(from, to), PLAN.publishBatch, () => edgeProcesses(edge.port)));
    pub.push(await publishRate("1 shard", edge1.url, secret, other.slice(from, to), PLAN.publishBatch, () => edgeProcesses(edge1.port)));
    console.log(
      `  publish: ${pub
        .slice(-2)
        .map((p) => `${p.label} ${p.rps.toFixed(0)} records/s (edge CPU ${p.cpuMsPerRecord.toFixed(2)} ms/record)`)
        .join(", ")} (load avg ${load1()})`,
    );
  }
  await edge1.stop();
  const ocspRecords = await presignedOcspRecords(ca, PLAN.records + 1);
  await publishRate("ocsp records", edge.url, secret, ocspRecords, PLAN.publishBatch);
  const origin = await startOrigin({ port: originPort, dataDir: join(root, "origin"), edgeUrl: `http://127.0.0.1:${edgePort}`, secret, adminKey });
  onCleanup(() => origin.stop());
  const issued = await issueCerts(origin.url, adminKey, PLAN.revocations, 8, 90_000);
  const client = nodeHttpClient(PLAN.load.concurrency);
  onCleanup(() => client.close());
  await waitAllActive(
    client,
    edge.url,
    issued.map((c) => c.serial),
    60_000,
  );

  const ocspPort = await freePort();
  const responder = await startOcspResponder(ca.dir, ocspPort, 2);
  onCleanup(() => responder.stop());
  const watch = () => edgeProcesses(edge.port);
  const targets = [
    ["edge GET /healthz (no-op)", healthzOp(edge.url)],
    ["edge verify, random of 10k", verifyOp(edge.url, records)],
    [`edge verify, hot set of ${PLAN.hotSet}`, verifyOp(edge.url, records.slice(0, PLAN.hotSet))],
    ["edge OCSP POST", ocspOp(`${edge.url}/v1/ocsp`, ca.leaves, ca.requests)],
    ["edge OCSP GET (RFC 5019)", ocspGetOp(edge.url, ca.leaves, ca.requests, !process.argv.includes("--no-rfc5019-check"))],
    ["openssl ocsp -multi 2 (POST)", ocspOp(`http://127.0.0.1:${ocspPort}/`, ca.leaves, ca.requests)],
  ] as const;
  const rounds: Round[] = [];
  for (let r = 0; r < PLAN.rounds; r++) {
    console.log(`round ${r + 1} of ${PLAN.rounds} (${PLAN.load.durationMs / 1000} s per target, c=${PLAN.load.concurrency}):`);
    const row: Round = { results: [], load: [] };
    for (const [label, op] of targets) {
      row.results.push(await measured(label, PLAN.load, PLAN.warmup, op, client, label.startsWith("openssl") ? () => [] : watch));
      row.load.push(loadavg()[0] ?? Number.NaN);
    }
    rounds.push(row);
  }
  await responder.stop();

  const rev = await measureRevocations(client, origin.url, edge.url, adminKey, issued, 10_000);
  const visible = rev.samples.map((s) => s.visibleMs);
  console.log(`\n${summary(rounds, pub)}`);
  console.log(
    `\nrevocation → edge, ${visible.length} revocations (${rev.timeouts} timed out): p50 ${percentile(visible, 50).toFixed(0)} ms, p99 ${percentile(visible, 99).toFixed(0)} ms, max ${max(visible).toFixed(0)} ms (goal p99 < 1000 ms)`,
  );
  console.log(`load avg at the end: ${load1()}`);
  if (rounds.some((r) => r.results.some((m) => m.errors > 0)) || rev.timeouts > 0) process.exitCode = 1;
}

const started = performance.now();
try {
  await main();
} catch (e) {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exitCode = 1;
} finally {
  await cleanupAll();
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
