/** Credentials never appear in what the CLI prints, whatever is wrong with them or the URL. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../test/support/system.ts";
import { kakunin } from "./support/run.ts";

describe("credentials in error messages", () => {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-cli-secrets-"));
  const env = { KAKUNIN_CONFIG: join(dir, "config.json") };
  let port = 0;
  beforeAll(async () => {
    port = await freePort();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("an API key with a control character, a space or non-ASCII is a local error (exit 2) that does not show it", async () => {
    const closed = `http://127.0.0.1:${port}`;
    for (const key of ["kk_secret\nX: 1", "kk_secret with space", "kk_secrét", "kk_secret\t"]) {
      const r = await kakunin(env, "agents", "list", "--origin", closed, "--api-key", key);
      expect(r.code, JSON.stringify(key)).toBe(2);
      expect(r.stderr, JSON.stringify(key)).toMatch(/^kakunin: the API key \(--api-key\) .*not shown/);
      expect(r.stderr).not.toContain("kk_secret");
    }
    const fromEnv = await kakunin({ ...env, KAKUNIN_API_KEY: "kk_secret\r\n" }, "agents", "list", "--origin", closed);
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain("KAKUNIN_API_KEY");
    expect(fromEnv.stderr).not.toContain("kk_secret");
    const cfg = join(dir, "bad-key.json");
    writeFileSync(cfg, JSON.stringify({ origin_url: closed, api_key: "kk_secret\u0000" }));
    const fromFile = await kakunin({ KAKUNIN_CONFIG: cfg }, "agents", "list");
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).not.toContain("kk_secret");
  });

  it("an ingest token that cannot be a header value is refused locally without echoing it", async () => {
    const file = join(dir, "e.jsonl");
    writeFileSync(file, `${JSON.stringify({ event_id: "e1", timestamp: new Date().toISOString(), type: "tool_call", action: "a", outcome: "success" })}\n`);
    const r = await kakunin(env, "events", "send", file, "--token", "tok_secret\nX: 1", "--edge", `http://127.0.0.1:${port}`);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain("tok_secret");
  });

  it("a user name and password in the origin URL never appear in messages", async () => {
    const r = await kakunin(env, "agents", "list", "--origin", `http://user:pa55word@127.0.0.1:${port}`, "--api-key", "k");
    expect([2, 4]).toContain(r.code);
    expect(r.stderr).not.toContain("pa55word");
    expect(r.stderr).not.toContain("user:");
  });
});
