import { defineProject } from "vitest/config";
import { TEST_WORKERS } from "../vitest.workers.ts";

export default defineProject({
  test: {
    name: "sdk",
    maxWorkers: TEST_WORKERS,
    environment: "node",
    include: ["test/**/*.test.ts"],
    // The origin compiled once for the run (test/support/test-build.ts).
    globalSetup: ["../test/support/test-build.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
