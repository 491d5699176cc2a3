import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { runSeries } from "./load.ts";
import type { SeriesResult } from "./stats.ts";

const exec = promisify(execFile);

export async function opensslVersion(): Promise<string> {
  try {
    const { stdout } = await exec("openssl", ["version"]);
    return stdout.trim();
  } catch (e) {
    throw new Error(`openssl is needed for the baseline: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/**
 * The machine's RSA-2048 key generation limit as the issue states it: `openssl genrsa 2048` in
 * `processes` parallel processes (one per core), back to back for `ms`. Keys go to /dev/null.
 */
export function genrsaSeries(opts: { processes: number; ms: number; label?: string }): Promise<SeriesResult> {
  return runSeries({
    label: opts.label ?? `openssl genrsa 2048 x${opts.processes}`,
    count: Number.MAX_SAFE_INTEGER,
    concurrency: opts.processes,
    maxMs: opts.ms,
    async run() {
      await exec("openssl", ["genrsa", "-out", "/dev/null", "2048"]);
    },
  });
}
