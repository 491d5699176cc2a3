import { createServer, type ServerResponse } from "node:http";
import { afterAll, expect, it } from "vitest";
import { freePort, pollUntil, startOrigin, systemFixture, type Proc } from "./support/system.ts";

/**
 * kill -9 of the origin while a webhook delivery is on the wire. The killed process never settles
 * its send; the delivery stays leased (60 s) under its instance id (host + data dir + port). The
 * same origin restarted takes the lease back before its first claim and sends the alert again at
 * once, as the publisher does with its outbox; until then the on-call's receiver heard nothing
 * for a minute after every crash.
 */
const fx = systemFixture();
const held: ServerResponse[] = [];
let origin: Proc | undefined;
afterAll(async () => {
  await origin?.stop("SIGKILL");
  for (const r of held) r.destroy();
  fx.cleanup();
});

it("origin killed -9 mid-send: the restarted origin sends the delivery again before the dead one's lease runs out", async () => {
  const hits: number[] = [];
  const receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      hits.push(Date.now());
      // The first request is never answered: the origin sending it is killed meanwhile.
      if (hits.length === 1) held.push(res);
      else res.writeHead(204).end();
    });
  });
  const rxPort = await freePort();
  await new Promise<void>((r) => receiver.listen(rxPort, "127.0.0.1", r));
  try {
    const env = { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1", KAKUNIN_WEBHOOK_TIMEOUT_MS: "30000" };
    const edgeUrl = `http://127.0.0.1:${await freePort()}`;
    origin = await startOrigin({ dataDir: fx.dir, edgeUrl, secret: fx.secret, adminKey: fx.adminKey, env });
    const port = origin.port;
    const auth = { authorization: `Bearer ${fx.adminKey}`, "content-type": "application/json" };
    const post = (url: string, path: string, body?: unknown) =>
      fetch(`${url}${path}`, { method: "POST", headers: auth, body: body === undefined ? undefined : JSON.stringify(body) });
    const hook = await post(origin.url, "/v1/tenant/webhooks", { url: `http://127.0.0.1:${rxPort}/hook` });
    expect(hook.status).toBe(201);
    const hookId = ((await hook.json()) as { data: { id: string } }).data.id;
    const agent = await post(origin.url, "/v1/agents", {
      name: "kill-bot",
      model: { name: "m", version: "1", hash: `sha256:${"b".repeat(64)}` },
      owner: { name: "A", email: "a@bank.example" },
      scopes: ["orders.*"],
    });
    const agentId = ((await agent.json()) as { data: { id: string } }).data.id;
    const cert = await post(origin.url, `/v1/agents/${agentId}/certify`);
    expect(cert.status).toBe(201);
    const certId = ((await cert.json()) as { data: { id: string } }).data.id;
    // The delivery is queued by this revocation and leased after it: its lease ends no earlier
    // than 60 s from here.
    const queuedAt = Date.now();
    expect((await post(origin.url, `/v1/certificates/${certId}/revoke`, { reason: "kill -9 drill" })).status).toBe(200);
    await pollUntil(async () => (hits.length > 0 ? true : undefined), 30_000);

    await origin.stop("SIGKILL");
    origin = await startOrigin({ port, dataDir: fx.dir, edgeUrl, secret: fx.secret, adminKey: fx.adminKey, env });
    await pollUntil(async () => (hits.length > 1 ? true : undefined), 55_000, 100);
    // Sent again while the killed origin's lease still stood: taken back, not waited out.
    expect(hits[1]! - queuedAt).toBeLessThan(60_000);
    const url = origin.url;
    const status = async () =>
      ((await (await fetch(`${url}/v1/tenant/webhooks/${hookId}/deliveries`, { headers: auth })).json()) as { data: { status: string }[] }).data[0]!.status;
    await pollUntil(async () => ((await status()) === "delivered" ? true : undefined), 20_000, 100);
  } finally {
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
  }
}, 180_000);
