import { execFile } from "node:child_process";
import { join } from "node:path";
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
 * The baseline a user would write by hand: one `openssl req -x509 -newkey rsa:2048` process per
 * certificate (fresh key, self-signed). Every run writes its own files so parallel runs never
 * share an output path.
 */
export function opensslSeries(opts: { dir: string; count: number; concurrency: number; maxMs: number }): Promise<SeriesResult> {
  return runSeries({
    label: `openssl loop c=${opts.concurrency}`,
    count: opts.count,
    concurrency: opts.concurrency,
    maxMs: opts.maxMs,
    async run(index) {
      await exec("openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes",
        "-keyout", join(opts.dir, `key-${index}.pem`),
        "-out", join(opts.dir, `cert-${index}.pem`),
        "-subj", "/CN=bench", "-days", "365",
      ]);
    },
  });
}
