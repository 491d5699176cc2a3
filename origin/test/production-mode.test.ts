import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";

// KAKUNIN_ENV=production must refuse each development default on its own, naming it, and start
// when every one of them is replaced by its production counterpart.
const safe = {
  KAKUNIN_ENV: "production",
  KAKUNIN_KEY_MANAGER: "aws-kms",
  DATABASE_URL: "postgres://kakunin@db.internal:5432/kakunin",
  KAKUNIN_ARCHIVE: "s3",
  KAKUNIN_S3_BUCKET: "kakunin-audit",
};

describe("KAKUNIN_ENV=production", () => {
  it("starts with production settings", () => {
    expect(loadConfig(safe).KAKUNIN_ENV).toBe("production");
  });

  it("a mistyped KAKUNIN_ENV is refused, not read as 'not production' with every guardrail off", () => {
    for (const typo of ["prod", "Production", "PRODUCTION", "production "]) {
      expect(() => loadConfig({ ...safe, KAKUNIN_ENV: typo, DATABASE_URL: undefined }), typo).toThrow(
        /KAKUNIN_ENV.*must be one of dev, test, staging, production/,
      );
    }
    for (const ok of ["dev", "test", "staging"]) expect(loadConfig({ ...safe, KAKUNIN_ENV: ok }).KAKUNIN_ENV).toBe(ok);
  });

  const unsafe: Array<[string, Record<string, string | undefined>, RegExp]> = [
    ["the local key manager", { KAKUNIN_KEY_MANAGER: "local" }, /KAKUNIN_KEY_MANAGER=local/],
    ["the local key manager by default", { KAKUNIN_KEY_MANAGER: undefined }, /KAKUNIN_KEY_MANAGER=local/],
    ["PGlite", { DATABASE_URL: undefined }, /DATABASE_URL.*PGlite/],
    ["a local archive", { KAKUNIN_ARCHIVE: "local" }, /KAKUNIN_ARCHIVE=local/],
    ["a local archive by default", { KAKUNIN_ARCHIVE: undefined }, /KAKUNIN_ARCHIVE=local/],
    ["a bootstrap admin key from the environment", { KAKUNIN_ADMIN_KEY: "an-admin-key-from-env-0123456789" }, /KAKUNIN_ADMIN_KEY/],
    ["webhooks to loopback and private addresses", { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1" }, /KAKUNIN_WEBHOOK_ALLOW_PRIVATE=1/],
  ];
  for (const [what, change, named] of unsafe) {
    it(`refuses ${what}, naming it`, () => {
      expect(() => loadConfig({ ...safe, ...change })).toThrow(named);
      expect(() => loadConfig({ ...safe, ...change })).toThrow(/KAKUNIN_ENV=production refuses to start/);
    });
  }

  it("names every refused default at once", () => {
    let message = "";
    try {
      loadConfig({ KAKUNIN_ENV: "production", KAKUNIN_ADMIN_KEY: "an-admin-key-from-env-0123456789" });
    } catch (e) {
      message = e instanceof Error ? e.message : String(e);
    }
    for (const name of ["KAKUNIN_KEY_MANAGER", "DATABASE_URL", "KAKUNIN_ARCHIVE", "KAKUNIN_ADMIN_KEY"]) expect(message).toContain(name);
  });

  it("leaves development untouched", () => {
    expect(loadConfig({}).KAKUNIN_KEY_MANAGER).toBe("local");
    expect(loadConfig({ KAKUNIN_ENV: "staging" }).KAKUNIN_ENV).toBe("staging");
  });
});
