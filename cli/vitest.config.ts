import { defineProject } from "vitest/config";
import { TEST_WORKERS } from "../vitest.workers.ts";

export default defineProject({
  test: {
    name: "cli",
    maxWorkers: TEST_WORKERS,
    environment: "node",
    include: ["test/**/*.test.ts"],
    // The CLI and the origin compiled once for the run; the tests run them as installed (test/support/test-build.ts).
    globalSetup: ["../test/support/test-build.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
