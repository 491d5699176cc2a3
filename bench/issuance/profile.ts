import { webcrypto } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kakuninOids } from "@kakunin/shared";
import { agentExtensions, agentName } from "@kakunin/origin/ca/profiles";
import { newSerial } from "@kakunin/origin/ca/serial";
import { signCertificate } from "@kakunin/origin/ca/sign-certificate";
import { SYSTEM } from "@kakunin/origin/audit/types";
import { certifyAgent } from "@kakunin/origin/lifecycle/certify";
import { activeCertificate } from "@kakunin/origin/lifecycle/revoke";
import { startInProcessOrigin, type InProcessOrigin } from "./inproc-origin.ts";
import { runSeries, sleep } from "./load.ts";
import { startOrigin, type OriginProcess } from "./origin-process.ts";
import { percentile } from "../common/stats.ts";

/**
 * Where the time of one certify goes (`pnpm --filter @kakunin/bench issuance:profile`). Pauses
 * between certifies let the key pool refill, so stage times exclude waiting for a key unless the
 * line says "back to back".
 */
const N = 12;
const PAUSE_MS = 400;
const RSA = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
const EC = { name: "ECDSA", namedCurve: "P-256" };

const root = mkdtempSync(join(tmpdir(), "kakunin-profile-"));
let inproc: InProcessOrigin | undefined;
let server: OriginProcess | undefined;

const fmt = (xs: readonly number[]) =>
  `p50 ${percentile(xs, 50).toFixed(1)} ms, mean ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;
const line = (label: string, xs: readonly number[]) => console.log(`${label.padEnd(48)} ${fmt(xs)}`);

async function times(count: number, op: () => Promise<unknown>): Promise<number[]> {
  const r = await runSeries({ label: "op", count, concurrency: 1, maxMs: 30_000, run: async () => void (await op()) });
  return r.latencies;
}

async function keygen(): Promise<void> {
  line("RSA-2048 generateKey (WebCrypto)", await times(16, () => webcrypto.subtle.generateKey(RSA, true, ["sign"])));
  line("ECDSA P-256 generateKey (for comparison)", await times(50, () => webcrypto.subtle.generateKey(EC, true, ["sign"])));
}

async function stages(o: InProcessOrigin): Promise<void> {
  const s = o.built.services;
  const ids = await o.registerAgents(3 * N + 1);
  let cursor = 0;
  const certify = async () => {
    const r = await certifyAgent(s, o.tenant, ids[cursor++] ?? "", SYSTEM("bench-profile"));
    if (!r.ok) throw new Error(`certifyAgent: ${r.error.type}`);
  };
  await sleep(2000);

  const before = o.timings.createKey.length;
  const direct = await runSeries({ label: "certify", count: N, concurrency: 1, maxMs: 60_000, pauseMs: PAUSE_MS, run: certify });
  const create = o.timings.createKey.slice(before);
  const sign = o.timings.sign.slice(before);
  console.log("");
  line("certifyAgent, pool hit (no HTTP, no auth)", direct.latencies);
  line("  keys.createKey, pool hit (export+seal+insert)", create);
  line("  keys.sign (CA RSA signature)", sign);
  line("  everything else (DB round trips, ASN.1)", direct.latencies.map((t, i) => t - (create[i] ?? 0) - (sign[i] ?? 0)));

  // The two biggest parts of "everything else", measured on their own.
  const agentId = ids[0] ?? "";
  const asn1: number[] = [];
  for (let i = 0; i < N; i++) {
    const signs = o.timings.sign.length;
    const t0 = performance.now();
    const r = await signCertificate(s.keys, {
      serial: newSerial(), subject: agentName("a", o.tenant.name), issuer: o.issuing.cert.subjectName,
      subjectSpki: o.issuing.spki, issuerSpki: o.issuing.spki, notBefore: new Date(), notAfter: new Date(Date.now() + 86_400_000),
      extensions: agentExtensions(agentId, { name: "m", version: "1", hash: `sha256:${"ab".repeat(32)}` }, { modelOid: kakuninOids().agentModelExtension }),
      signerRef: o.issuing.record.keyRef,
    });
    if (!r.ok) throw new Error(`signCertificate: ${r.error.message}`);
    asn1.push(performance.now() - t0 - (o.timings.sign[signs] ?? 0));
  }
  line("    signCertificate minus keys.sign (ASN.1)", asn1);
  line("    one indexed SELECT on PGlite", await times(N, () => activeCertificate(s.db, agentId, new Date())));

  const routed = await runSeries({
    label: "route", count: N, concurrency: 1, maxMs: 60_000, pauseMs: PAUSE_MS,
    async run() {
      const res = await o.app.request(`/v1/agents/${ids[cursor++] ?? ""}/certify`, { method: "POST", headers: { authorization: `Bearer ${o.adminKey}` } });
      await res.text();
      if (res.status !== 201) throw new Error(`certify route: HTTP ${res.status}`);
    },
  });
  line("Hono route in-process, pool hit (+auth, JSON)", routed.latencies);

  const b2b = o.timings.createKey.length;
  const sustained = await runSeries({ label: "sustained", count: N, concurrency: 1, maxMs: 60_000, run: certify });
  line("certifyAgent back to back (pool drains)", sustained.latencies);
  line("  keys.createKey back to back", o.timings.createKey.slice(b2b));
}

async function socket(): Promise<void> {
  server = await startOrigin({ dataDir: join(root, "server"), adminKey: "profile-admin-key-0123456789" });
  const base = server.baseUrl;
  console.log("");
  line("GET /healthz over HTTP (keep-alive)", await times(50, async () => {
    const res = await fetch(`${base}/healthz`);
    await res.text();
    if (res.status !== 200) throw new Error(`healthz: HTTP ${res.status}`);
  }));
  line("GET /healthz in-process (app.request)", await times(50, async () => (await inproc?.app.request("/healthz"))?.text()));
}

async function main(): Promise<void> {
  await keygen();
  inproc = await startInProcessOrigin(join(root, "inproc"));
  await stages(inproc);
  await socket();
}

main()
  .catch((e: unknown) => {
    console.error(`profile failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    await inproc?.built.close();
    await server?.stop();
    rmSync(root, { recursive: true, force: true });
  });
