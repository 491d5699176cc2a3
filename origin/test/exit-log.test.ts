import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { errorFields } from "../src/observability/logger.ts";

/**
 * The line a process exits on must say why in full: a configuration refusal lists each setting on
 * its own line, and the log kept only the first ("invalid configuration:"), so the operator could
 * not tell which variable to fix. Any other error still keeps only its first line (a failed
 * query's later lines carry SQL parameters).
 */
describe("errorFields on the line a process exits on", () => {
  it("an invalid configuration names every setting it refuses, never a value", () => {
    let thrown: unknown;
    try {
      loadConfig({ KAKUNIN_ORIGIN_PORT: "not-a-port", KAKUNIN_ENV: "prod", KAKUNIN_ADMIN_KEY: "kk_admin_secret_value_1234567890" });
    } catch (e) {
      thrown = e;
    }
    const f = errorFields(thrown);
    expect(f.error).toContain("invalid configuration");
    expect(f.error).toContain("KAKUNIN_ORIGIN_PORT");
    expect(f.error).toContain("KAKUNIN_ENV");
    expect(String(f.error)).not.toContain("kk_admin_secret_value");
    expect(String(f.error)).not.toContain("\n");
  });

  it("production mode names each development default it refuses", () => {
    let thrown: unknown;
    try {
      loadConfig({ KAKUNIN_ENV: "production" });
    } catch (e) {
      thrown = e;
    }
    const f = errorFields(thrown);
    for (const name of ["KAKUNIN_KEY_MANAGER=local", "DATABASE_URL", "KAKUNIN_ARCHIVE=local"]) expect(f.error).toContain(name);
  });

  it("any other error keeps its first line only", () => {
    const f = errorFields(new Error("insert failed\nparams: owner@example.com"));
    expect(f.error).toBe("insert failed");
  });
});
