import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { startTestOrigin } from "./harness.ts";

/**
 * The contract's dev bootstrap: "KAKUNIN_ADMIN_KEY=<key> at first start creates tenant default with
 * that admin API key (dev bootstrap, like a dev root token)". A harness that chose a short key
 * (`test-admin`, like Vault's dev root token `root`) got an origin that refused to start ("must be
 * at least 16 characters", exit 1): every test after it failed. Any non-empty key works; a short
 * one is warned about at start, and production refuses the variable altogether.
 */
describe("KAKUNIN_ADMIN_KEY of any length", () => {
  it("loads a short key and refuses an empty one", () => {
    expect(loadConfig({ KAKUNIN_ADMIN_KEY: "test-admin" }).KAKUNIN_ADMIN_KEY).toBe("test-admin");
    expect(loadConfig({ KAKUNIN_ADMIN_KEY: "k" }).KAKUNIN_ADMIN_KEY).toBe("k");
    expect(() => loadConfig({ KAKUNIN_ADMIN_KEY: "" })).toThrow(/KAKUNIN_ADMIN_KEY must not be empty/);
  });

  it("a short bootstrap key is the tenant's admin key; a wrong one is still 401", async () => {
    const o = await startTestOrigin("pglite", { adminKey: "test-admin" });
    try {
      expect((await o.json("GET", "/v1/agents")).status).toBe(200);
      expect((await o.json("GET", "/v1/agents", { key: "test-admim" })).status).toBe(401);
    } finally {
      await o.close();
    }
  });
});
