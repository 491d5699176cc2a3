import { defineProject } from "vitest/config";

export default defineProject({
  test: {
    name: "e2e",
    environment: "node",
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 60_000,
    // Fault drills (test/faults) report rows; the table is printed after the run.
    globalSetup: ["./faults/table.ts"],
    hookTimeout: 120_000,
  },
});
