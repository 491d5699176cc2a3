import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// One `vitest run` drives every project: the Worker in workerd, the origin in Node, and the
// cross-component tests in test/ (real KMS-compatible server, SoftHSM, PostgreSQL, S3).
export default defineConfig({
  test: {
    projects: ["workers/vitest.config.ts", "origin/vitest.config.ts", "test/vitest.config.ts", "cli/vitest.config.ts", "sdk/vitest.config.ts"],
    // At least two test files at once. vitest's default (cores − 1) is one on the 2-core CI machine,
    // but most files spend their time waiting on processes they started (origin, workerd, Ceph,
    // PostgreSQL, openssl, java), not on the CPU: the whole suite took 1,065 s one file at a time and
    // 693 s two at a time on 2 cores, with the same 1,419 tests passing and the same fault table.
    // Every file already has its own database, bucket, data directory and free ports.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
