import { randomBytes } from "node:crypto";
import { createKeygenWorkers } from "@kakunin/origin/kms/keygen-workers";
import { runSeries } from "./load.ts";
import type { SeriesResult } from "./stats.ts";

/**
 * The same limit measured with the OpenSSL inside this Node (the one the origin generates with):
 * the origin's own worker-thread generator, `threads` at once, nothing else. Node bundles its own
 * OpenSSL, which need not be the version (or the speed) of the `openssl` binary on PATH.
 */
export async function nodeKeygenSeries(opts: { threads: number; ms: number }): Promise<SeriesResult> {
  const gen = createKeygenWorkers({ threads: opts.threads, masterKey: new Uint8Array(randomBytes(32)) });
  try {
    return await runSeries({
      label: `node ${process.versions.openssl} keygen x${opts.threads} threads`,
      count: Number.MAX_SAFE_INTEGER,
      concurrency: opts.threads,
      maxMs: opts.ms,
      run: async () => void (await gen.generate()),
    });
  } finally {
    await gen.close();
  }
}
