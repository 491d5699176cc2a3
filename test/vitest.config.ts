import { defineProject } from "vitest/config";
import { TEST_WORKERS } from "../vitest.workers.ts";

export default defineProject({
  test: {
    name: "e2e",
    maxWorkers: TEST_WORKERS,
    environment: "node",
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 60_000,
    // Fault drills (test/faults) report rows; the table is printed after the run.
    // The CLI and the origin compiled once for the run, as installed (support/test-build.ts).
    globalSetup: ["./faults/table.ts", "./support/test-build.ts"],
    hookTimeout: 120_000,
  },
});
