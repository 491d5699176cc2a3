import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineProject } from "vitest/config";
import { TEST_WORKERS } from "../vitest.workers.ts";

/** The secret the tests sign internal calls with (a real deployment sets it with `wrangler secret put`). */
export const TEST_EDGE_SECRET = "test-edge-secret-0123456789abcdef0123456789abcdef";

export default defineProject({
  plugins: [
    cloudflareTest({
      main: "./src/index.ts",
      wrangler: { configPath: "../wrangler.toml" },
      miniflare: { bindings: { KAKUNIN_EDGE_SECRET: TEST_EDGE_SECRET } },
    }),
  ],
  test: { name: "workers", include: ["test/**/*.test.ts"], maxWorkers: TEST_WORKERS },
});
