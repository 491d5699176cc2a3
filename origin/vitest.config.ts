import { defineProject } from "vitest/config";
import { TEST_WORKERS } from "../vitest.workers.ts";

export default defineProject({
  test: {
    name: "origin",
    maxWorkers: TEST_WORKERS,
    environment: "node",
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
