import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { agentBody } from "../../origin/test/harness.ts";
import { freePort, startEdge, startSystem, systemFixture, type Proc, type RunningSystem } from "../../test/support/system.ts";
import { listeners } from "../common/proc.ts";
import { Rng } from "../common/rng.ts";
import { groupOfPort, groupRss } from "./rss.ts";

/**
 * Soak: mixed certify / revoke / verify / ingest at a steady rate against the real origin (on a
 * PostgreSQL cluster of its own) and edge (wrangler dev), sampling every 10 s: RSS of both,
 * outbox lag, forward backlog and archive lag. Prints the samples and each metric's slope (least
 * squares, per minute): a leak or a backlog that grows shows as a slope well above zero.
 *
 * Memory is sampled per process of each process group (`wrangler dev` is a Node wrapper, workerd
 * runtimes and esbuild), and a baseline Worker with no Kakunin code (bench/soak/baseline: the same
 * KV reads and Durable Object SQLite writes) runs under its own `wrangler dev` in the same run and
 * gets the same requests: what it grows by is the local runtime's, not Kakunin's.
 *
 *   pnpm --filter @kakunin/bench soak [--minutes 30] [--rate 20]
 */
const ROOT = resolve(import.meta.dirname, "../..");
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const MINUTES = arg("minutes", 30);
const RATE = arg("rate", 20); // operations per second
/**
 * `--fixed-agents N`: certify N agents up front and then only verify and ingest (no new agents, no
 * revocations). Memory that still grows then grows per request; memory that grew only with the
 * number of agents (one Durable Object each) stays flat.
 */
const FIXED_AGENTS = arg("fixed-agents", 0);
const SAMPLE_MS = 10_000;

interface Sample { t: number; originRssMb: number; edgeRssMb: number; outboxLagS: number; forwardBacklog: number; archiveLag: number; rss: Record<string, number> }

/** RSS of each process of the group listening on `port`, named `<label> <process>[#n]`, and the group total. */
function groupSeries(label: string, pgrp: number | undefined): Record<string, number> {
  if (pgrp === undefined) return {};
  const out: Record<string, number> = {};
  const seen: Record<string, number> = {};
  let total = 0;
  for (const p of groupRss(pgrp)) {
    const n = (seen[p.name] = (seen[p.name] ?? 0) + 1);
    out[`${label} ${p.name}${n > 1 ? `#${n}` : ""}`] = p.rssMb;
    if (Number.isFinite(p.rssMb)) total += p.rssMb;
  }
  out[`${label} total`] = total;
  return out;
}

function rssMb(port: number): number {
  const pid = listeners().find(([p]) => p === port)?.[1];
  if (!pid) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

function slopePerMinute(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) { num += (xs[i]! - mx) * (ys[i]! - my); den += (xs[i]! - mx) ** 2; }
  return den === 0 ? 0 : (num / den) * 60_000;
}

async function main(): Promise<void> {
  const pgDir = mkdtempSync(join(tmpdir(), "kakunin-soak-pg-"));
  const pgEnv = execFileSync("bash", [join(ROOT, "scripts/pg-up.sh"), pgDir, String(await freePort())], { encoding: "utf8" });
  const base = /TEST_DATABASE_URL=(\S+)/.exec(pgEnv)![1]!;
  const psql = (q: string) => execFileSync("psql", ["-At", "-d", base.replace(/\/postgres$/, "/kakunin"), "-c", q], { encoding: "utf8" }).trim();
  execFileSync("psql", ["-q", "-d", base, "-c", "create database kakunin"]);
  const fx = systemFixture();
  let sys: RunningSystem | undefined;
  let baseline: Proc | undefined;
  try {
    sys = await startSystem(fx, { DATABASE_URL: base.replace(/\/postgres$/, "/kakunin"), KAKUNIN_ARCHIVE_BATCH: "200", KAKUNIN_ARCHIVE_MAX_AGE_S: "10" });
    const s = sys;
    mkdirSync(join(fx.dir, "baseline"), { recursive: true });
    baseline = await startEdge({ persistDir: join(fx.dir, "baseline"), originUrl: "http://127.0.0.1:9", secret: fx.secret, config: join(ROOT, "bench/soak/baseline/wrangler.toml") });
    const base0 = baseline;
    const groups = { edge: groupOfPort(s.edgePort), baseline: groupOfPort(base0.port) };
    /** The same request to the baseline Worker; its answer is read and dropped. */
    const mirror = (path: string, init?: RequestInit) => fetch(`${base0.url}${path}`, init).then((r) => r.arrayBuffer()).catch(() => undefined);
    const api = async (method: string, path: string, body?: unknown) => {
      // No content-type without a body: the origin answers a bare POST that claims JSON with 400.
      const r = await fetch(`${s.origin.url}${path}`, { method, headers: { authorization: `Bearer ${fx.adminKey}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined });
      return { status: r.status, body: (await r.json().catch(() => ({}))) as { data: { id: string; serial_number: string; token: string } } };
    };
    const rng = new Rng(7);
    const live: { agent: string; cert: string; serial: string; token: string }[] = [];
    const certify = async () => {
      const a = await api("POST", "/v1/agents", agentBody());
      const c = await api("POST", `/v1/agents/${a.body.data.id}/certify`);
      const t = await api("POST", `/v1/agents/${a.body.data.id}/ingest-tokens`, {});
      if (c.status === 201 && t.status === 201) {
        live.push({ agent: a.body.data.id, cert: c.body.data.id, serial: c.body.data.serial_number, token: t.body.data.token });
        // A record of the size the edge stores for a certificate (PEM and OCSP response included).
        await mirror(`/kv/cert:${c.body.data.serial_number}`, { method: "PUT", body: JSON.stringify({ ...c.body.data, pad: "x".repeat(3000) }) });
      }
    };
    for (let i = 0; i < (FIXED_AGENTS || 10); i++) await certify();
    let accepted = 0;
    let seq = 0;
    const counts = { certify: 0, revoke: 0, verify: 0, ingest: 0, errors: 0 };
    const errorStatuses: Record<string, number> = {};
    let dumped = false;
    const op = async () => {
      const x = rng.next();
      try {
        if (x < 0.05 && !FIXED_AGENTS) { await certify(); counts.certify++; }
        else if (x < 0.08 && live.length > 10 && !FIXED_AGENTS) {
          const v = live.splice(Math.floor(rng.next() * live.length), 1)[0]!;
          await api("POST", `/v1/certificates/${v.cert}/revoke`, { reason: "soak" });
          counts.revoke++;
        } else if (x < 0.55) {
          const v = live[Math.floor(rng.next() * live.length)]!;
          await (await fetch(`${s.edge.url}/v1/verify/${v.serial}`)).arrayBuffer();
          await mirror(`/v1/verify/${v.serial}`);
          counts.verify++;
        } else {
          const v = live[Math.floor(rng.next() * live.length)]!;
          const events = Array.from({ length: 5 }, () => ({ event_id: `soak-${seq++}`, timestamp: new Date().toISOString(), type: "tool_call", action: "orders.quote", resource: "instrument/EURUSD", outcome: "success", latency_ms: 90 }));
          const init = { method: "POST", headers: { authorization: `Bearer ${v.token}`, "content-type": "application/json" }, body: JSON.stringify({ events }) };
          const r = await fetch(`${s.edge.url}/v1/events`, init);
          await mirror("/v1/events", init);
          const b = (await r.json().catch(() => ({}))) as { data?: { accepted: number } };
          if (r.status === 202) accepted += b.data?.accepted ?? 0;
          else { counts.errors++; errorStatuses[`ingest ${r.status}`] = (errorStatuses[`ingest ${r.status}`] ?? 0) + 1; }
          counts.ingest++;
        }
      } catch (e) {
        counts.errors++;
        const k = `thrown ${e instanceof Error ? e.message.slice(0, 40) : "?"}`;
        errorStatuses[k] = (errorStatuses[k] ?? 0) + 1;
      }
    };
    const samples: Sample[] = [];
    const t0 = Date.now();
    const sample = () => {
      const lag = Number(psql("select coalesce(extract(epoch from now() - min(created_at)), 0) from outbox where delivered_at is null"));
      const stored = Number(psql("select count(*) from agent_events"));
      const archiveLag = Number(psql("select coalesce((select sum(size) from audit_heads), 0) - coalesce((select sum(last_idx - first_idx + 1) from audit_batches where archived_at is not null), 0)"));
      const rss = { ...groupSeries("edge", groups.edge), ...groupSeries("baseline", groups.baseline) };
      const row = { t: Date.now() - t0, originRssMb: rssMb(s.originPort), edgeRssMb: rssMb(s.edgePort), outboxLagS: lag, forwardBacklog: accepted - stored, archiveLag, rss };
      samples.push(row);
      if (row.outboxLagS > 60 && !dumped) {
        dumped = true; // a publish backlog that only grows: show why while it is happening
        console.log(`outbox lag over 60 s; origin log (tail):\n${s.origin.log().slice(-4000)}`);
      }
      console.log(`${(row.t / 1000).toFixed(0).padStart(5)} s  origin ${row.originRssMb.toFixed(0)} MB  edge ${row.edgeRssMb.toFixed(0)} MB (group ${rss["edge total"]?.toFixed(0)}, baseline ${rss["baseline total"]?.toFixed(0)})  outbox lag ${row.outboxLagS.toFixed(1)} s  forward backlog ${row.forwardBacklog}  archive lag ${row.archiveLag}  ops ${JSON.stringify(counts)}${counts.errors ? ` ${JSON.stringify(errorStatuses)}` : ""}`);
    };
    sample();
    let next = Date.now();
    let nextSample = Date.now() + SAMPLE_MS;
    const inflight = new Set<Promise<void>>();
    while (Date.now() - t0 < MINUTES * 60_000) {
      next += 1000 / RATE;
      const p = op().finally(() => inflight.delete(p));
      inflight.add(p);
      if (inflight.size > 50) await Promise.race(inflight); // open loop, but bounded
      if (Date.now() >= nextSample) { sample(); nextSample += SAMPLE_MS; }
      const wait = next - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await Promise.all(inflight);
    sample();
    const xs = samples.map((x) => x.t);
    console.log(`\nsoak: ${MINUTES} min at ${RATE} ops/s, ${samples.length} samples; slopes per minute (least squares):`);
    for (const k of ["originRssMb", "edgeRssMb", "outboxLagS", "forwardBacklog", "archiveLag"] as const) {
      const ys = samples.map((x) => x[k]).filter((y) => Number.isFinite(y));
      console.log(`  ${k.padEnd(15)} ${slopePerMinute(xs.slice(0, ys.length), ys).toFixed(3).padStart(10)} /min   (first ${ys[0]?.toFixed(1)}, last ${ys.at(-1)?.toFixed(1)}, max ${Math.max(...ys).toFixed(1)})`);
    }
    // Per process: which part of `wrangler dev` grows, beside the baseline Worker's same processes.
    const series = [...new Set(samples.flatMap((x) => Object.keys(x.rss)))].sort();
    console.log("\nRSS per process (MB), slope per minute; the edge listener is the `edge` group's process owning its port:");
    for (const k of series) {
      const pts = samples.filter((x) => Number.isFinite(x.rss[k]));
      const ys = pts.map((x) => x.rss[k]!);
      if (ys.length < 2) continue;
      console.log(`  ${k.padEnd(28)} ${slopePerMinute(pts.map((x) => x.t), ys).toFixed(3).padStart(10)} /min   (first ${ys[0]!.toFixed(1)}, last ${ys.at(-1)!.toFixed(1)})`);
    }
    console.log(`  operations ${JSON.stringify(counts)}, events accepted ${accepted}, errors ${JSON.stringify(errorStatuses)}`);
    if ((samples.at(-1)?.outboxLagS ?? 0) > 60 || process.argv.includes("--logs")) {
      console.log(`\norigin log (tail):\n${s.origin.log().slice(-4000)}\nedge log (tail):\n${s.edge.log().slice(-2000)}`);
    }
  } finally {
    await baseline?.stop();
    await sys?.stop();
    fx.cleanup();
    execFileSync("bash", [join(ROOT, "scripts/pg-down.sh"), pgDir], { stdio: "ignore" });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
