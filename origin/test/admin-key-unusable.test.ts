import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { startTestOrigin } from "./harness.ts";

/**
 * KAKUNIN_ADMIN_KEY takes any non-empty key (admin-key-short.test.ts), but a request presents it as
 * `Authorization: Bearer <key>`, which the origin reads as 1 to 512 printable ASCII characters
 * without spaces (auth/authenticate.ts). A key outside that (`test admin`, `clé-admin`, a trailing
 * newline pasted into an env file, a 600-character one) bootstrapped tenant default and then every
 * request made with it was a 401: the origin looked healthy and its only admin key could never be
 * used. Refused at start instead, saying why.
 */
describe("KAKUNIN_ADMIN_KEY that no request could present", () => {
  it("is refused at start, naming the rule", () => {
    for (const key of ["test admin", "clé-admin", "test-admin\n", " test-admin", "tab\tkey", "k".repeat(513)]) {
      expect(() => loadConfig({ KAKUNIN_ADMIN_KEY: key }), JSON.stringify(key)).toThrow(
        /KAKUNIN_ADMIN_KEY must be 1 to 512 printable ASCII characters without spaces/,
      );
    }
  });

  it("every key the configuration takes is the admin key of its requests", async () => {
    const longest = `!~${"x".repeat(510)}`;
    expect(loadConfig({ KAKUNIN_ADMIN_KEY: longest }).KAKUNIN_ADMIN_KEY).toBe(longest);
    const o = await startTestOrigin("pglite", { adminKey: longest });
    try {
      expect((await o.json("GET", "/v1/agents")).status).toBe(200);
    } finally {
      await o.close();
    }
  });
});
