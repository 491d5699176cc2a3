/** `kakunin events send` against bad input and an edge that never answers, without a real edge. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../test/support/system.ts";
import { kakunin } from "./support/run.ts";

const line = (id: string): string =>
  JSON.stringify({ event_id: id, timestamp: new Date().toISOString(), type: "tool_call", action: "orders.quote", outcome: "success" });

describe("events send", () => {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-cli-events-"));
  const env = { KAKUNIN_CONFIG: join(dir, "config.json") };
  let closed = "";
  beforeAll(async () => {
    closed = `http://127.0.0.1:${await freePort()}`;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a line that is not valid UTF-8 is a bad line (exit 2, its number), not silently rewritten to U+FFFD", async () => {
    const file = join(dir, "bad-utf8.jsonl");
    const bad = Buffer.from(line("e2").replace("orders.quote", "orders.q~"), "utf8");
    // 0xff never occurs in UTF-8; 0xc3 alone is a truncated sequence.
    bad[bad.indexOf("~")] = 0xff;
    const truncated = Buffer.concat([Buffer.from(line("e4").slice(0, -2)), Buffer.from([0xc3]), Buffer.from('"}')]);
    writeFileSync(file, Buffer.concat([Buffer.from(`${line("e1")}\n`), bad, Buffer.from(`\n${line("e3")}\n`), truncated, Buffer.from("\n")]));
    const r = await kakunin(env, "events", "send", file, "--token", "t", "--edge", closed);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/2 bad line\(s\); nothing was sent/);
    expect(r.stderr).toMatch(/line 2: .*UTF-8/);
    expect(r.stderr).toMatch(/line 4: .*UTF-8/);
    expect(r.stderr).not.toMatch(/line [13]:/);
  });

  describe("an edge that accepts connections but never answers", () => {
    let server: Server;
    const sockets: Socket[] = [];
    let edge = "";
    beforeAll(async () => {
      server = createServer((s) => {
        sockets.push(s);
        s.on("error", () => {});
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      edge = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });

    it("gives the batch up after about the documented 30 s: exit 4 and a clear message", async () => {
      const file = join(dir, "ok.jsonl");
      writeFileSync(file, `${line("h1")}\n${line("h2")}\n`);
      const started = Date.now();
      const r = await kakunin(env, "events", "send", file, "--token", "t", "--edge", edge);
      const took = Date.now() - started;
      expect(r.code, r.stderr).toBe(4);
      expect(r.stderr).toContain(`the edge at ${edge} did not answer`);
      expect(took).toBeGreaterThan(25_000);
      expect(took).toBeLessThan(45_000);
    }, 60_000);
  });
});
