/**
 * Commands that write a file must fail on an unwritable path with one line and exit 2, and must
 * find that out before asking the origin for anything that leaves a trace (an export is logged).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { fetchRoot, kakunin } from "./support/run.ts";

describe("writing output files", () => {
  const dir = mkdtempSync(join(tmpdir(), "kakunin-cli-out-"));
  const env = { KAKUNIN_CONFIG: join(dir, "config.json") };
  const missingDir = join(dir, "no-such-dir");
  let server: Server;
  let origin = "";
  let evidenceRequests = 0;
  let o: TestOrigin | undefined;

  beforeAll(async () => {
    // A stand-in origin that answers any evidence request with a tiny bundle and counts them.
    server = createServer((req, res) => {
      if (req.url?.includes("/evidence")) evidenceRequests++;
      res.writeHead(200, { "content-type": "application/json" }).end('{"data":{"entries":[]}}');
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("audit export --out into a missing directory: exit 2, one line, and the origin is never asked", async () => {
    const r = await kakunin(env, "audit", "export", "agent-1", "--out", join(missingDir, "e.json"), "--origin", origin, "--api-key", "k");
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^kakunin: cannot write .*e\.json.*\n$/);
    expect(r.stderr.split("\n")).toHaveLength(2);
    expect(r.stderr).not.toContain("    at ");
    expect(evidenceRequests).toBe(0);
  });

  it("audit export --out still writes the bundle, and leaves no temporary file", async () => {
    const out = join(dir, "ok.json");
    const r = await kakunin(env, "audit", "export", "agent-1", "--out", out, "--origin", origin, "--api-key", "k", "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ file: out, entries: 0 });
    expect(readdirSync(dir).filter((f) => f.startsWith("ok.json"))).toEqual(["ok.json"]);
  });

  it("audit report --out into a missing directory: exit 2 with one line, not an internal error", async () => {
    o = await startTestOrigin("pglite");
    const { rootFile } = await fetchRoot(o, dir);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "report-bot" }) })).body.data.id;
    const bundle = (await o.json<{ data: unknown }>("GET", `/v1/agents/${agent}/evidence`)).body.data;
    const file = join(dir, "ev.json");
    writeFileSync(file, JSON.stringify({ data: bundle }));
    const r = await kakunin(env, "audit", "report", file, "--root", rootFile, "--out", join(missingDir, "r.html"));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^kakunin: cannot write .*r\.html/);
    expect(r.stderr).not.toContain("internal error");
    expect(r.stderr).not.toContain("    at ");
  }, 60_000);
});
