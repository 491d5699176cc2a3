import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, pollUntil, startOrigin, systemFixture, type Proc } from "./support/system.ts";

const ROOT = resolve(import.meta.dirname, "..");

/**
 * SIGTERM while a webhook delivery is in flight. The dispatcher's stop() waits for sends under way
 * (each bounded by KAKUNIN_WEBHOOK_TIMEOUT_MS, 10 s by default) so their outcome is recorded, but
 * the origin only began stopping its background jobs after the last HTTP connection closed, and
 * exited after 5 s whatever was still running (with status 0, without a line saying so). A receiver
 * that took 6 s got the event, and the origin never wrote it down: after the restart the delivery
 * was still pending under the dead process's 60 s lease, then sent a second time. `pnpm start`
 * (scripts/start.mjs) killed the origin with SIGKILL 5 s after a Ctrl-C, with the same result.
 */
describe("origin shutdown with a webhook delivery in flight", () => {
  const received: string[] = [];
  let receiver: Server;
  let receiverUrl = "";
  const env = { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1" };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      received.push(String(req.headers["webhook-id"]));
      req.resume();
      // Slower than the old 5 s shutdown cap, well inside the 10 s webhook timeout.
      setTimeout(() => res.writeHead(204).end(), 6_000);
    });
    const port = await freePort();
    await new Promise<void>((r) => receiver.listen(port, "127.0.0.1", r));
    receiverUrl = `http://127.0.0.1:${port}/hook`;
  });
  afterAll(async () => {
    await new Promise((r) => receiver.close(r));
  });

  /** Revokes a certificate with a webhook registered; resolves once the receiver holds the delivery. */
  async function deliveryInFlight(url: string, adminKey: string): Promise<string> {
    const auth = { authorization: `Bearer ${adminKey}`, "content-type": "application/json" };
    const hook = await fetch(`${url}/v1/tenant/webhooks`, { method: "POST", headers: auth, body: JSON.stringify({ url: receiverUrl }) });
    expect(hook.status).toBe(201);
    const hookId = ((await hook.json()) as { data: { id: string } }).data.id;
    const agent = await fetch(`${url}/v1/agents`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({
        name: "shutdown-bot",
        model: { name: "m", version: "1", hash: `sha256:${"a".repeat(64)}` },
        owner: { name: "A", email: "a@bank.example" },
        scopes: ["orders.*"],
      }),
    });
    const agentId = ((await agent.json()) as { data: { id: string } }).data.id;
    const cert = await fetch(`${url}/v1/agents/${agentId}/certify`, { method: "POST", headers: auth });
    expect(cert.status).toBe(201);
    const certId = ((await cert.json()) as { data: { id: string } }).data.id;
    const before = received.length;
    const revoked = await fetch(`${url}/v1/certificates/${certId}/revoke`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ reason: "shutdown drill" }),
    });
    expect(revoked.status).toBe(200);
    await pollUntil(async () => (received.length > before ? true : undefined), 30_000);
    return hookId;
  }

  /** After a restart on the same data dir: the one delivery is recorded as delivered, and was sent once. */
  async function expectRecorded(fx: ReturnType<typeof systemFixture>, edgeUrl: string, hookId: string): Promise<void> {
    const again = await startOrigin({ dataDir: fx.dir, edgeUrl, secret: fx.secret, adminKey: fx.adminKey, env });
    try {
      const list = await fetch(`${again.url}/v1/tenant/webhooks/${hookId}/deliveries`, { headers: { authorization: `Bearer ${fx.adminKey}` } });
      const deliveries = ((await list.json()) as { data: { status: string; attempts: number; id: string }[] }).data;
      expect(deliveries.map((d) => `${d.status} after ${d.attempts} attempt(s)`)).toEqual(["delivered after 1 attempt(s)"]);
    } finally {
      await again.stop();
    }
  }

  it("SIGTERM: finishes and records the delivery before it exits, and says it stopped cleanly", async () => {
    const fx = systemFixture();
    const edgeUrl = `http://127.0.0.1:${await freePort()}`;
    let origin: Proc | undefined;
    try {
      origin = await startOrigin({ dataDir: fx.dir, edgeUrl, secret: fx.secret, adminKey: fx.adminKey, env });
      const hookId = await deliveryInFlight(origin.url, fx.adminKey);
      const sent = received.length;
      await origin.stop("SIGTERM");
      const lines = origin
        .log()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { event?: string });
      await expectRecorded(fx, edgeUrl, hookId);
      expect(received).toHaveLength(sent);
      expect(lines.filter((l) => l.event === "shutdown_timed_out")).toEqual([]);
      expect(lines.some((l) => l.event === "stopped")).toBe(true);
    } finally {
      await origin?.stop("SIGKILL");
      fx.cleanup();
    }
  }, 120_000);

  it("Ctrl-C on `pnpm start` (scripts/start.mjs) gives the origin the same time", async () => {
    const fx = systemFixture();
    const originPort = await freePort();
    const edgeUrl = `http://127.0.0.1:${await freePort()}`;
    // The edge is not needed here: a port nobody answers keeps wrangler out of this test.
    const child = spawn(process.execPath, ["-e", startWithoutEdge], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        ...env,
        KAKUNIN_DATA_DIR: fx.dir,
        KAKUNIN_ORIGIN_PORT: String(originPort),
        KAKUNIN_EDGE_SECRET: fx.secret,
        KAKUNIN_ADMIN_KEY: fx.adminKey,
        EDGE_URL: edgeUrl,
      },
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    try {
      const url = `http://127.0.0.1:${originPort}`;
      await pollUntil(
        async () =>
          (await fetch(`${url}/healthz`).then(
            (r) => r.ok,
            () => false,
          )) || undefined,
        60_000,
        200,
      );
      const hookId = await deliveryInFlight(url, fx.adminKey);
      const sent = received.length;
      // Ctrl-C: the terminal signals the foreground process group, start.mjs's own.
      process.kill(-child.pid!, "SIGINT");
      await exited;
      expect(out).toMatch(/"event":"stopped"/);
      await expectRecorded(fx, edgeUrl, hookId);
      expect(received).toHaveLength(sent);
    } finally {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        /* gone */
      }
      fx.cleanup();
    }
  }, 120_000);
});

/**
 * scripts/start.mjs with its process list cut to the origin (KAKUNIN_EDGE_URL pointed at EDGE_URL):
 * the same stop logic, without a wrangler dev start-up.
 */
const startWithoutEdge = `
const { readFileSync } = require("node:fs");
const src = readFileSync("scripts/start.mjs", "utf8")
  .replace(/const procs = \\[([\\s\\S]*?)\\n  \\{\\n    name: "edge"[\\s\\S]*?\\n  \\},\\n\\];/, "const procs = [$1\\n];")
  .replace("KAKUNIN_EDGE_URL: \`http://127.0.0.1:\${edgePort}\`", "KAKUNIN_EDGE_URL: process.env.EDGE_URL");
import("data:text/javascript," + encodeURIComponent(src.replace("import.meta.dirname", JSON.stringify(process.cwd() + "/scripts"))));
`;
