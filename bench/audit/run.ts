/**
 * Audit log benchmark (issue 16 goals 4–6, issue 12 §4), every figure next to a baseline measured
 * in the same run, on PGlite and on PostgreSQL (when TEST_DATABASE_URL or DATABASE_URL is set):
 * 1. append: appendAudit against plain INSERTs of the same rows;
 * 2. a log of --entries (default 1,000,000) entries of one agent, bulk-seeded (origin/test/audit-seed.ts);
 *    inclusion and consistency proofs through the routes against GET /healthz the same way;
 * 3. that agent's evidence export through the route, streamed to disk, with the process RSS; the
 *    bundle's size against the canonical entries it carries; `kakunin audit verify` on it (time, peak
 *    RSS) against one SHA-256 pass over the file. See bench/README.md, "Audit".
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { cliArgs } from "../common/args.ts";
import v8 from "node:v8";
import vm from "node:vm";
import { CHUNK_COST } from "../../origin/src/audit/node-cache.ts";
import { seedAgentEvents } from "../../origin/test/audit-seed.ts";
import { agentBody, postgresUrl, rowsOf as rows, startTestOrigin, type DbKind, type TestOrigin } from "../../origin/test/harness.ts";
import { percentile } from "../common/stats.ts";
import { addSeries, createPlainTable, loadAppend, timeAudit, timePlain, type Series } from "./append.ts";
import { execFileSync } from "node:child_process";
import { CLI_BUILT, cliVerify, exportTo, hashFileMs } from "./export.ts";
import { timeProofRoutes } from "./proofs.ts";
import { verifyLimits } from "./verify-limits.ts";

const { values: args } = parseArgs({
  args: cliArgs(),
  options: {
    entries: { type: "string", default: "1000000" },
    append: { type: "string", default: "20000" },
    db: { type: "string", default: "pglite,postgres" },
    proofs: { type: "string", default: "500" },
    /** Keep the exported bundle and the root here (for profiling `kakunin audit verify`) instead of deleting them. */
    keep: { type: "string" },
    /** Bundle formats to export and verify, in this order (the previous format is the same run's baseline). */
    formats: { type: "string", default: "kakunin-evidence/3,kakunin-evidence/2" },
    /**
     * `proofs`: seed the log and time the proof routes only (no append series, no export/verify);
     * `append`: the append series only (no large log, no proofs, no export);
     * `verify`: no origin; time `kakunin audit verify` of a bundle kept by an earlier `--keep DIR`
     * run (or `--bundle FILE --root FILE`) against the SHA-256 pass, `--rounds` times.
     */
    only: { type: "string" },
    /** A tree made by before-tree.sh: its appendAudit is timed too, in the same run (the "before"). */
    before: { type: "string" },
    bundle: { type: "string" },
    root: { type: "string" },
    /** Rounds of the append series (rotating order, see append()) and of the verify comparison; default 4 and 5. */
    rounds: { type: "string" },
    /** A compiled CLI to time as "before" in the same rounds (e.g. main's cli/dist/kakunin.js). */
    "before-cli": { type: "string" },
  },
});
const ENTRIES = Number(args.entries);
const APPEND = Number(args.append);
const PROOFS = Number(args.proofs);
const BATCH = 500;
const ROUNDS = Number(args.rounds ?? "4");
const SERIES_BUDGET_MS = 90_000;

v8.setFlagsFromString("--expose-gc");
globalThis.gc ??= vm.runInNewContext("gc") as typeof globalThis.gc;

const f1 = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const f2 = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 2, minimumFractionDigits: 2 });
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const rate = (s: Series) => (s.entries * 1000) / s.elapsedMs;
const p50 = (xs: number[]) => percentile(xs, 50);
const mark = (ok: boolean) => (ok ? "PASS" : "MISS");

function row(label: string, s: Series, ratio: string): string {
  return `  ${label.padEnd(36)} ${int(s.entries).padStart(7)} ${f1(s.elapsedMs / 1000).padStart(6)} s ${int(rate(s)).padStart(7)}/s  batch p50 ${f1(p50(s.batchMs)).padStart(6)} ms  ${ratio}`;
}

async function tenantId(o: TestOrigin): Promise<string> {
  return (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
}

async function append(o: TestOrigin, tenant: string): Promise<void> {
  const db = o.services.db;
  await createPlainTable(db);
  console.log(`\n[${o.kind}] Append: ${int(APPEND)} event entries, batches of ${BATCH}, one transaction per batch, in ${ROUNDS} rounds`);
  const before = args.before ? await loadAppend(args.before) : null;
  // In rounds, the order of the series rotating: a later series writes into a bigger database
  // (PGlite grows its in-memory files by copying them), so no series always goes last.
  const kinds = before ? (["plain", "before", "audit"] as const) : (["plain", "audit"] as const);
  const sums = new Map<string, Series>();
  const per = Math.max(BATCH, Math.ceil(APPEND / ROUNDS / BATCH) * BATCH);
  for (let r = 0; r * per < APPEND; r++) {
    const count = Math.min(per, APPEND - r * per);
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[(k + r) % kinds.length]!;
      const s =
        kind === "plain"
          ? await timePlain(db, tenant, count, BATCH, SERIES_BUDGET_MS / ROUNDS, r * per)
          : await timeAudit(db, tenant, count, BATCH, SERIES_BUDGET_MS / ROUNDS, kind === "before" ? before! : undefined);
      sums.set(kind, addSeries(sums.get(kind), s));
    }
  }
  const plain = sums.get("plain")!;
  const old = sums.get("before");
  const audit = sums.get("audit")!;
  console.log(row("plain INSERT (baseline)", plain, "1.00x"));
  if (old) console.log(row("appendAudit, before (--before)", old, `${f2(rate(old) / rate(plain))}x`));
  const r = rate(audit) / rate(plain);
  console.log(row("appendAudit (JCS + SHA-256 + nodes)", audit, `${f2(r)}x  goal ≥ 0.5x and ≥ 10,000/s: ${mark(r >= 0.5 && rate(audit) >= 10_000)}`));
  console.log(
    `  load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(" ")}`,
  );
}

async function largeLog(o: TestOrigin, tenant: string, dir: string): Promise<void> {
  const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: `bench-${o.kind}` }) })).body.data.id;
  const serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
  let t = performance.now();
  await seedAgentEvents(o.services.db, tenant, agent, serial, ENTRIES);
  const [head] = rows<{ size: number | string }>(await o.services.db.execute(`select size from audit_heads where tenant_id = '${tenant}'`));
  const size = Number(head!.size);
  console.log(
    `\n[${o.kind}] Log of ${int(size)} entries (${int(ENTRIES)} bulk-seeded events of one agent in ${f1((performance.now() - t) / 1000)} s, setup, not timed)`,
  );

  globalThis.gc?.();
  // Heap plus ArrayBuffers: a chunk's 512 bytes live outside the V8 heap.
  const heapOf = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const heapBefore = heapOf();
  // Two passes over different random entries: the first from a cold origin, the second after it.
  for (const [pass, seed] of [
    ["first pass (cold)", 7],
    ["second pass, other entries", 8],
  ] as const) {
    const p = await timeProofRoutes(o, size, PROOFS, seed);
    const h = p50(p.healthzMs);
    console.log(`  ${pass}: ${int(PROOFS)} requests each, in-process app.request, interleaved, load average ${loadavg()[0]!.toFixed(2)}:`);
    console.log(`  GET /healthz (baseline)               p50 ${f2(h)} ms  p99 ${f2(percentile(p.healthzMs, 99))} ms`);
    const authed = p50(p.tenantMs);
    console.log(`  GET /v1/tenant (auth + 1 query)       p50 ${f2(authed)} ms  p99 ${f2(percentile(p.tenantMs, 99))} ms  ${f2(authed / h)}x healthz`);
    for (const [label, xs] of [
      ["inclusion proof", p.inclusionMs],
      ["consistency proof", p.consistencyMs],
    ] as const) {
      const v = p50(xs);
      console.log(
        `  GET /v1/audit/proofs/${label.split(" ")[0]!.padEnd(12)} p50 ${f2(v)} ms  p99 ${f2(percentile(xs, 99))} ms  ${f2(v / h)}x healthz, ${f2(v / authed)}x /v1/tenant  goal < 1 ms and ≤ 1.5x: ${mark(v < 1 && v / h <= 1.5)}`,
      );
    }
  }
  const nc = o.services.auditNodes;
  globalThis.gc?.();
  const heapGrowth = (heapOf() - heapBefore) / 2 ** 20;
  console.log(
    `  node cache: ${int(nc.size)} chunks ≈ ${f1((nc.size * CHUNK_COST) / 2 ** 20)} MiB estimated (bound ${f1(nc.maxBytes / 2 ** 20)} MiB), ${int(nc.hits)} hits, ${int(nc.misses)} misses; heap + ArrayBuffers after GC +${f1(heapGrowth)} MiB over the passes`,
  );
  if (args.only === "proofs") return;

  for (const format of (args.formats ?? "").split(",")) await exportAndVerify(o, tenant, agent, dir, format);
}

async function exportAndVerify(o: TestOrigin, tenant: string, agent: string, dir: string, format: string): Promise<void> {
  const file = join(dir, `bundle-${o.kind}-${format.replace(/\W+/g, "-")}.json`);
  const e = await exportTo(o, agent, file, format);
  const [canon] = rows<{ bytes: number | string; n: number | string }>(
    await o.services.db.execute(
      `select sum(octet_length(canonical)) as bytes, count(*) as n from audit_entries where tenant_id = '${tenant}' and agent_id = '${agent}'`,
    ),
  );
  const canonical = Number(canon!.bytes);
  console.log(`\n[${o.kind}] Evidence export of the agent (${int(Number(canon!.n))} entries, ${format}), streamed to disk through the route:`);
  console.log(
    `  ${f1(e.bytes / 1e6)} MB in ${f1(e.ms / 1000)} s; process RSS ${int(e.rssBeforeMb)} MB before, peak ${int(e.rssPeakMb)} MB (+${int(e.rssPeakMb - e.rssBeforeMb)} MB)`,
  );
  console.log(
    `  size ${f2(e.bytes / canonical)}x the canonical entries it carries (${f1(canonical / 1e6)} MB)  goal ≤ 1.3x: ${mark(e.bytes / canonical <= 1.3)}`,
  );
  const hashMs = await hashFileMs(file);
  const root = join(dir, `root-${o.kind}.pem`);
  writeFileSync(root, (await o.json<{ data: { root: { certificate_pem: string } } }>("GET", "/v1/ca")).body.data.root.certificate_pem);
  const v = await cliVerify(file, root);
  if (v.code !== 0) throw new Error(`kakunin audit verify exited ${v.code}: ${v.summary}`);
  console.log(`  SHA-256 of the file once (baseline)   ${f2(hashMs / 1000)} s`);
  console.log(`  kakunin audit verify, repo (tsx)      ${f2(v.ms / 1000)} s = ${f1(v.ms / hashMs)}x the hash pass, peak RSS ${int(v.peakRssMb)} MB`);
  await compareVerify(file, root, Number(args.rounds ?? "5"));
  if (args.keep) console.log(`  kept ${file} and ${root} (--keep)`);
  else rmSync(file, { force: true });
}

/**
 * The compiled CLI (what an auditor installs: no TypeScript compilation at start-up) on `file`,
 * `rounds` times: the SHA-256 pass, the reference path (KAKUNIN_VERIFY_PATH=reference: JSON.parse
 * per entry, the verifier before the fast path) and the default (fast) path, interleaved so that
 * each ratio is taken under the same load.
 */
async function compareVerify(file: string, root: string, rounds: number): Promise<void> {
  execFileSync(process.execPath, [new URL("../../scripts/build.mjs", import.meta.url).pathname, "cli"], { stdio: "ignore" });
  // The installed launcher (cli/bin/kakunin.mjs) turns on V8's compile cache; so does this env
  // variable for dist/kakunin.js run directly. One untimed run fills the cache.
  const env = { NODE_COMPILE_CACHE: join(tmpdir(), "kakunin-bench-compile-cache") };
  await cliVerify(file, root, CLI_BUILT, env);
  const before = args["before-cli"];
  if (before) await cliVerify(file, root, before, env);
  const rows: { sha: number; ref: number; fast: number; before: number; load: number }[] = [];
  let rss = { ref: 0, fast: 0, before: 0 };
  let summary = "";
  for (let r = 0; r < rounds; r++) {
    const sha = await hashFileMs(file);
    const old = before ? await cliVerify(file, root, before, env) : null;
    const ref = await cliVerify(file, root, CLI_BUILT, { ...env, KAKUNIN_VERIFY_PATH: "reference" });
    const fast = await cliVerify(file, root, CLI_BUILT, env);
    const sha2 = await hashFileMs(file);
    for (const x of [ref, fast, ...(old ? [old] : [])]) if (x.code !== 0) throw new Error(`kakunin audit verify (built) exited ${x.code}: ${x.summary}`);
    const base = Math.min(sha, sha2);
    rows.push({ sha: base, ref: ref.ms, fast: fast.ms, before: old?.ms ?? NaN, load: loadavg()[0]! });
    rss = { ref: Math.max(rss.ref, ref.peakRssMb), fast: Math.max(rss.fast, fast.peakRssMb), before: Math.max(rss.before, old?.peakRssMb ?? 0) };
    summary = fast.summary;
    const was = old ? `before ${int(old.ms)} ms = ${f1(old.ms / base)}x, ` : "";
    console.log(
      `  round ${r + 1}: SHA-256 pass ${int(base)} ms (${int(sha)}, ${int(sha2)}); verify ${was}reference path ${int(ref.ms)} ms = ${f1(ref.ms / base)}x, fast ${int(fast.ms)} ms = ${f1(fast.ms / base)}x; load ${loadavg()[0]!.toFixed(2)}`,
    );
  }
  const med = (xs: number[]) => percentile(xs, 50);
  const sha = med(rows.map((x) => x.sha));
  const ref = med(rows.map((x) => x.ref));
  const fast = med(rows.map((x) => x.fast));
  const fastRatio = med(rows.map((x) => x.fast / x.sha));
  console.log(
    `  medians of ${rows.length} round${rows.length === 1 ? "" : "s"}, load ${f2(Math.min(...rows.map((x) => x.load)))}–${f2(Math.max(...rows.map((x) => x.load)))}:`,
  );
  console.log(`  SHA-256 of the file once (baseline)   ${f2(sha / 1000)} s`);
  if (before)
    console.log(
      `  audit verify, --before-cli             ${f2(med(rows.map((x) => x.before)) / 1000)} s = ${f1(med(rows.map((x) => x.before / x.sha)))}x the hash pass, peak RSS ${int(rss.before)} MB`,
    );
  console.log(
    `  audit verify, built CLI, reference    ${f2(ref / 1000)} s = ${f1(med(rows.map((x) => x.ref / x.sha)))}x the hash pass, peak RSS ${int(rss.ref)} MB  (KAKUNIN_VERIFY_PATH=reference: JSON.parse per entry)`,
  );
  console.log(
    `  audit verify, built CLI (fast path)   ${f2(fast / 1000)} s = ${f1(fastRatio)}x the hash pass, peak RSS ${int(rss.fast)} MB  goal ≤ 3x and < 2 s: ${mark(fastRatio <= 3 && fast < 2000)}`,
  );
  console.log(`  ${summary}`);
  const l = await verifyLimits(file, CLI_BUILT);
  const x = (ms: number) => `${int(ms)} ms = ${f2(ms / sha)}x`;
  console.log(
    `  limits, each alone in this process (${int(l.entries)} entries; load ${loadavg()[0]!.toFixed(2)}): reading the file ${x(l.readMs)}; one SHA-256 per entry ${x(l.leafMs)};`,
  );
  console.log(
    `    ${int(l.entries - 1)} node hashes ${x(l.nodeMs)}; structural walk of every entry ${x(l.walkMs)}; field scan ${x(l.scanMs)}; CLI start (--help) ${x(l.startMs)}`,
  );
}

async function runOn(kind: DbKind, dir: string): Promise<void> {
  const o = await startTestOrigin(kind, { env: { KAKUNIN_DB_STATEMENT_TIMEOUT_MS: "600000" } });
  try {
    const tenant = await tenantId(o);
    if (args.only !== "proofs") await append(o, tenant);
    if (args.only !== "append") await largeLog(o, tenant, dir);
  } finally {
    await o.close();
  }
}

const started = performance.now();
console.log(`Audit benchmark — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}, load average ${loadavg()[0]!.toFixed(2)}`);
const dir = args.keep ?? mkdtempSync(join(tmpdir(), "kakunin-bench-audit-"));
if (args.only === "verify") {
  const kept = (re: RegExp) =>
    readdirSync(dir)
      .filter((f) => re.test(f))
      .map((f) => join(dir, f))[0];
  const file = args.bundle ?? kept(/^bundle-.*kakunin-evidence-3\.json$/);
  const root = args.root ?? kept(/^root-.*\.pem$/);
  if (!file || !root) throw new Error("--only verify needs --keep DIR of an earlier run (or --bundle FILE --root FILE)");
  console.log(`\n${file}: ${f1(statSync(file).size / 1e6)} MB`);
  await compareVerify(file, root, Number(args.rounds ?? "5"));
  process.exit(0);
}
try {
  for (const kind of (args.db ?? "").split(",") as DbKind[]) {
    if (kind === "postgres" && !postgresUrl()) {
      console.log("\n[postgres] skipped: set TEST_DATABASE_URL (scripts/pg-up.sh prints one)");
      continue;
    }
    await runOn(kind, dir);
  }
} finally {
  if (!args.keep) rmSync(dir, { recursive: true, force: true });
}
console.log(`\nDone in ${f1((performance.now() - started) / 1000)} s, load average ${loadavg()[0]!.toFixed(2)}.`);
