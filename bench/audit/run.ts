/**
 * Audit log benchmark: append throughput against plain INSERTs, inclusion-proof generation from
 * the database, and offline verification of a 100k-entry evidence bundle with the CLI's
 * verifier. In-process, PGlite in memory, about 1–2 minutes. See bench/README.md, "Audit".
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { verifyBundle } from "../../cli/src/verify/index.ts";
import { percentile } from "../common/stats.ts";
import { createPlainTable, timeAudit, timePlain, type Series } from "./append.ts";
import { buildBundle } from "./bundle.ts";
import { startBenchOrigin } from "./origin.ts";
import { timeProofs } from "./proofs.ts";

const ENTRIES = 20_000;
const BATCH = 500;
const PROOFS = 1_000;
const BUNDLE_ENTRIES = 100_000;
/** Per append series: a pathological slowdown ends the series instead of the run. */
const SERIES_BUDGET_MS = 75_000;

const f1 = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const f2 = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 2, minimumFractionDigits: 2 });
const int = (n: number) => Math.round(n).toLocaleString("en-US");
const rate = (s: Series) => (s.entries * 1000) / s.elapsedMs;

function row(label: string, s: Series, ratio: string): string {
  const cut = s.entries < ENTRIES ? " (time budget hit)" : "";
  return `  ${label.padEnd(34)} ${int(s.entries).padStart(7)} ${f1(s.elapsedMs / 1000).padStart(7)} s ${int(rate(s)).padStart(8)}/s   batch p50 ${f1(percentile(s.batchMs, 50)).padStart(6)} ms  p99 ${f1(percentile(s.batchMs, 99)).padStart(6)} ms  ${ratio}${cut}`;
}

async function appendAndProofs(): Promise<void> {
  const o = await startBenchOrigin();
  try {
    const db = o.built.services.db;
    await createPlainTable(db);
    console.log(`\nAppend: ${int(ENTRIES)} event entries in batches of ${BATCH}, one transaction per batch (PGlite in memory)`);
    const plain = await timePlain(db, o.tenantId, ENTRIES, BATCH, SERIES_BUDGET_MS);
    const audit = await timeAudit(db, o.tenantId, ENTRIES, BATCH, SERIES_BUDGET_MS);
    console.log(row("plain INSERT (no hashing, baseline)", plain, "1.00x"));
    console.log(row("appendAudit (JCS + SHA-256 + nodes)", audit, `${f2(rate(audit) / rate(plain))}x of baseline, ${f2(rate(plain) / rate(audit))}x slower`));

    const size = (await db.execute("select size from audit_heads where tenant_id = '" + o.tenantId + "'")) as unknown;
    const treeSize = sizeOf(size);
    const p = await timeProofs(db, o.tenantId, treeSize, PROOFS);
    console.log(`\nInclusion proofs from the database (committedReader), ${int(PROOFS)} random entries of a tree of ${int(p.size)}, path length ${p.pathLength.min}–${p.pathLength.max}:`);
    console.log(`  p50 ${f2(percentile(p.latenciesMs, 50))} ms  p99 ${f2(percentile(p.latenciesMs, 99))} ms  max ${f2(Math.max(...p.latenciesMs))} ms  (${int(PROOFS / (p.latenciesMs.reduce((a, b) => a + b, 0) / 1000))} proofs/s)`);
  } finally {
    await o.close();
  }
}

function sizeOf(result: unknown): number {
  const rows = result && typeof result === "object" && "rows" in result && Array.isArray(result.rows) ? result.rows : [];
  const first: unknown = rows[0];
  const v = first && typeof first === "object" && "size" in first ? Number(first.size) : NaN;
  if (!Number.isSafeInteger(v) || v <= 0) throw new Error("cannot read the audit head's size");
  return v;
}

async function verification(): Promise<void> {
  console.log(`\nVerify: a ${int(BUNDLE_ENTRIES)}-entry evidence bundle with the CLI's verifier (kakunin audit verify's code path)`);
  const dir = mkdtempSync(join(tmpdir(), "kakunin-bench-bundle-"));
  try {
    const file = join(dir, "bundle.json");
    // Built, saved, and dropped before timing: only the parsed copy is on the heap while verifying,
    // as in the CLI, so the garbage collector is not charged for the builder's leftovers.
    const t0 = performance.now();
    const { size, bytes } = await saveBundle(file);
    console.log(`  built in ${f1((performance.now() - t0) / 1000)} s (not timed); ${f1(bytes / 1e6)} MB of JSON, tree size ${int(size)}`);
    let t = performance.now();
    const doc: unknown = JSON.parse(readFileSync(file, "utf8"));
    const parseMs = performance.now() - t;
    t = performance.now();
    const report = await verifyBundle(doc);
    const verifyMs = performance.now() - t;
    if (!report.ok) throw new Error(`the generated bundle did not verify: ${report.summary}`);
    console.log(`  read + JSON.parse ${f2(parseMs / 1000)} s + verify ${f2(verifyMs / 1000)} s = ${f2((parseMs + verifyMs) / 1000)} s  (${int(BUNDLE_ENTRIES / (verifyMs / 1000))} entries/s, ${f1((verifyMs * 1000) / BUNDLE_ENTRIES)} µs per entry)`);
    console.log(`  ${report.summary}`);
    await cliRun(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function saveBundle(file: string): Promise<{ size: number; bytes: number }> {
  const bundle = await buildBundle(BUNDLE_ENTRIES);
  const text = JSON.stringify({ data: bundle });
  writeFileSync(file, text);
  return { size: bundle.tree_head.tree_size, bytes: Buffer.byteLength(text) };
}

/** The same file through the real command in a child process: tsx start-up, read, parse, verify, report. */
async function cliRun(file: string): Promise<void> {
  const cli = new URL("../../cli/bin/kakunin.mjs", import.meta.url).pathname;
  const t = performance.now();
  const out = await new Promise<{ code: number; last: string }>((resolve) => {
    execFile(process.execPath, [cli, "audit", "verify", file], { timeout: 120_000, maxBuffer: 1 << 20 }, (err, stdout) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, last: stdout.trim().split("\n").pop() ?? "" });
    });
  });
  const ms = performance.now() - t;
  console.log(`  \`kakunin audit verify\` as a child process: exit ${out.code} in ${f2(ms / 1000)} s`);
  if (out.code !== 0) throw new Error(`kakunin audit verify exited ${out.code}: ${out.last}`);
}

const started = performance.now();
console.log(`Audit benchmark — Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "?"}, load average ${loadavg()[0]!.toFixed(2)}`);
await appendAndProofs();
await verification();
console.log(`\nDone in ${f1((performance.now() - started) / 1000)} s, load average ${loadavg()[0]!.toFixed(2)}.`);
