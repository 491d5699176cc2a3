import { defineConfig } from "vitest/config";

// One `vitest run` drives every project: the Worker in workerd, the origin in Node, and the
// cross-component tests in test/ (real KMS-compatible server, SoftHSM, PostgreSQL, S3).
export default defineConfig({
  test: { projects: ["workers/vitest.config.ts", "origin/vitest.config.ts", "test/vitest.config.ts", "cli/vitest.config.ts", "sdk/vitest.config.ts"] },
});
