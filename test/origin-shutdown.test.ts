import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, pollUntil, startOrigin, systemFixture, type Proc } from "./support/system.ts";

/**
 * SIGTERM while a webhook delivery is in flight. The dispatcher's stop() waits for sends under way
 * (each bounded by KAKUNIN_WEBHOOK_TIMEOUT_MS, 10 s by default) so their outcome is recorded, but
 * the origin only began stopping its background jobs after the last HTTP connection closed, and
 * exited after 5 s whatever was still running (with status 0, without a line saying so). A receiver
 * that took 6 s got the event, and the origin never wrote it down: after the restart the delivery
 * was still pending under the dead process's 60 s lease, then sent a second time.
 */
describe("origin shutdown with a webhook delivery in flight", () => {
  const fx = systemFixture();
  const received: string[] = [];
  let receiver: Server;
  let receiverUrl = "";
  let origin: Proc | undefined;
  let edgeUrl = "";
  const auth = () => ({ authorization: `Bearer ${fx.adminKey}`, "content-type": "application/json" });
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
    edgeUrl = `http://127.0.0.1:${await freePort()}`;
    origin = await startOrigin({ dataDir: fx.dir, edgeUrl, secret: fx.secret, adminKey: fx.adminKey, env });
  }, 120_000);
  afterAll(async () => {
    await origin?.stop("SIGKILL");
    await new Promise((r) => receiver.close(r));
    fx.cleanup();
  });

  it("finishes and records the delivery before it exits, and says it stopped cleanly", async () => {
    const o = origin!;
    const hook = await fetch(`${o.url}/v1/tenant/webhooks`, { method: "POST", headers: auth(), body: JSON.stringify({ url: receiverUrl }) });
    expect(hook.status).toBe(201);
    const hookId = ((await hook.json()) as { data: { id: string } }).data.id;
    const agent = await fetch(`${o.url}/v1/agents`, {
      method: "POST",
      headers: auth(),
      body: JSON.stringify({
        name: "shutdown-bot",
        model: { name: "m", version: "1", hash: `sha256:${"a".repeat(64)}` },
        owner: { name: "A", email: "a@bank.example" },
        scopes: ["orders.*"],
      }),
    });
    const agentId = ((await agent.json()) as { data: { id: string } }).data.id;
    const cert = await fetch(`${o.url}/v1/agents/${agentId}/certify`, { method: "POST", headers: auth() });
    expect(cert.status).toBe(201);
    const certId = ((await cert.json()) as { data: { id: string } }).data.id;
    const revoked = await fetch(`${o.url}/v1/certificates/${certId}/revoke`, { method: "POST", headers: auth(), body: JSON.stringify({ reason: "shutdown drill" }) });
    expect(revoked.status).toBe(200);

    // The receiver holds the delivery; the origin is told to stop meanwhile.
    await pollUntil(async () => (received.length > 0 ? true : undefined), 30_000);
    await o.stop("SIGTERM");
    const lines = o.log().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { event?: string; level?: string });

    origin = await startOrigin({ dataDir: fx.dir, edgeUrl, secret: fx.secret, adminKey: fx.adminKey, env });
    const list = await fetch(`${origin.url}/v1/tenant/webhooks/${hookId}/deliveries`, { headers: auth() });
    const deliveries = ((await list.json()) as { data: { status: string; attempts: number }[] }).data;
    expect(deliveries.map((d) => `${d.status} after ${d.attempts} attempt(s)`)).toEqual(["delivered after 1 attempt(s)"]);
    expect(received).toHaveLength(1);
    expect(lines.filter((l) => l.event === "shutdown_timed_out")).toEqual([]);
    expect(lines.some((l) => l.event === "stopped")).toBe(true);
  }, 120_000);
});
