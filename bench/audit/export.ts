/**
 * A whole-agent evidence export through the real route (GET /v1/agents/:id/evidence), streamed to a
 * file while the process RSS is sampled, then `kakunin audit verify` on that file as a child process
 * under /usr/bin/time (its peak RSS), against the time to SHA-256 the file's bytes once.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type { TestOrigin } from "../../origin/test/harness.ts";

export interface ExportRun {
  bytes: number;
  ms: number;
  rssBeforeMb: number;
  rssPeakMb: number;
}

const mb = (n: number) => n / 2 ** 20;

export async function exportTo(o: TestOrigin, agentId: string, file: string, format = "kakunin-evidence/3"): Promise<ExportRun> {
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const t = performance.now();
  try {
    const res = await o.request("GET", `/v1/agents/${agentId}/evidence?format=${format}`);
    if (res.status !== 200) throw new Error(`export answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const out = createWriteStream(file);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once("drain", () => r()));
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    await new Promise<void>((r) => out.end(() => r()));
  } finally {
    clearInterval(timer);
  }
  return { bytes: statSync(file).size, ms: performance.now() - t, rssBeforeMb: mb(rssBefore), rssPeakMb: mb(peak) };
}

/** The baseline for the verifier: one SHA-256 pass over the file, streamed. */
export async function hashFileMs(file: string): Promise<number> {
  const t = performance.now();
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  h.digest();
  return performance.now() - t;
}

export interface VerifyRun {
  code: number;
  ms: number;
  peakRssMb: number;
  summary: string;
}

/** The repository's launcher (TypeScript through tsx) and the compiled CLI `pnpm build` writes (what `npm i -g` installs). */
export const CLI_SOURCE = new URL("../../cli/bin/kakunin.mjs", import.meta.url).pathname;
export const CLI_BUILT = new URL("../../cli/dist/kakunin.js", import.meta.url).pathname;

/** `kakunin audit verify FILE --root ROOT` in a child process, timed, with its peak RSS. */
export function cliVerify(file: string, rootPem: string, cli = CLI_SOURCE, env: Record<string, string> = {}): Promise<VerifyRun> {
  const t = performance.now();
  return new Promise((resolve) => {
    execFile(
      "/usr/bin/time",
      ["-f", "maxrss_kb=%M", process.execPath, cli, "audit", "verify", file, "--root", rootPem],
      { timeout: 1_800_000, maxBuffer: 16 << 20, env: { ...process.env, ...env } },
      (err, stdout, stderr) => {
        const kb = Number(/maxrss_kb=(\d+)/.exec(stderr)?.[1] ?? NaN);
        const summary = stdout.trim().split("\n").pop() ?? "";
        resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, ms: performance.now() - t, peakRssMb: kb / 1024, summary });
      },
    );
  });
}
