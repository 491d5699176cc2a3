/**
 * What auditors and the WORM audit trail see of a webhook URL (redact-url.ts). A query part
 * without `=` parses as a name with an empty value, and names were kept: `?s3cr3tT0ken` went into
 * the write-once audit trail as `?s3cr3tT0ken=REDACTED`.
 */
import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import { redactedUrl } from "../src/webhooks/redact-url.ts";

describe("redacted webhook URLs", () => {
  it("a bare query token is redacted whole; named values are redacted, names kept", () => {
    expect(redactedUrl("https://h.example/hook?s3cr3tT0ken")).toBe("https://h.example/hook?REDACTED");
    expect(redactedUrl("https://h.example/hook?sk_live_abc&x=1")).toBe("https://h.example/hook?REDACTED&x=REDACTED");
    expect(redactedUrl("https://h.example/hook?token=abc&team=ops")).toBe("https://h.example/hook?token=REDACTED&team=REDACTED");
    expect(redactedUrl("https://h.example/hook?a%20b=1&c+d=2&=x")).toBe("https://h.example/hook?a%20b=REDACTED&c%20d=REDACTED&=REDACTED");
    expect(redactedUrl("https://h.example/hook")).toBe("https://h.example/hook");
  });
});

describe("the webhook timeout", () => {
  it("is at most 30 s, half the dispatcher's 60 s claim on a delivery (a longer send is taken over and sent twice)", () => {
    expect(() => loadConfig({ KAKUNIN_WEBHOOK_TIMEOUT_MS: "60000" })).toThrow(/KAKUNIN_WEBHOOK_TIMEOUT_MS/);
    expect(loadConfig({ KAKUNIN_WEBHOOK_TIMEOUT_MS: "30000" }).KAKUNIN_WEBHOOK_TIMEOUT_MS).toBe(30_000);
  });
});
