import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookDispatcher } from "../src/webhooks/dispatcher.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * An origin killed (-9, OOM) while a webhook is in flight leaves that delivery leased for 60 s, and
 * nothing of the killed process will settle it. The same origin restarted (same instance id: host,
 * data dir, port) takes it back at once, as the publisher does with its outbox leases; any other
 * origin still waits for the lease to run out, since the holder may be alive.
 */
describe.each(dbKinds())("a webhook in flight when its origin dies, on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind, { env: { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1" } });
  });
  afterAll(async () => {
    await o.close();
  });

  it("is sent again at once by the restarted origin, not after its 60 s lease; another origin leaves it alone", async () => {
    // The first request is held unanswered (the killed origin's send); later ones are answered.
    const held: ServerResponse[] = [];
    let hits = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        hits++;
        if (hits === 1) held.push(res);
        else res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const key = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `crash-${kind}` } })).body.data.admin_api_key;
      const hook = (await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { key, body: { url } })).body.data.id;
      const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { key, body: agentBody() })).body.data.id;
      const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`, { key })).body.data.id;
      expect((await o.json("POST", `/v1/certificates/${cert}/revoke`, { key, body: { reason: "crash drill" } })).status).toBe(200);
      const deliveries = async () =>
        (await o.json<{ data: { status: string; attempts: number }[] }>("GET", `/v1/tenant/webhooks/${hook}/deliveries`, { key })).body.data;

      const instanceId = "origin-host:/var/lib/kakunin:8788";
      const opts = { allowPrivate: true, timeoutMs: 30_000, log: () => {} };
      // The origin that dies: its send is on the wire and never settles while it lives.
      const killed = new WebhookDispatcher(o.services, { ...opts, instanceId });
      const dying = killed.drainOnce();
      while (hits === 0) await new Promise((r) => setTimeout(r, 10));

      // Another origin sharing the database must not take a lease that may still be held.
      await new WebhookDispatcher(o.services, { ...opts, instanceId: "other-host:/var/lib/kakunin:8788" }).drainOnce();
      expect(hits).toBe(1);

      // The same origin, restarted: sends it again in its first pass.
      const restarted = new WebhookDispatcher(o.services, { ...opts, instanceId });
      await restarted.drainOnce();
      expect(hits).toBe(2);
      expect(await deliveries()).toMatchObject([{ status: "delivered", attempts: 1 }]);

      // The dead process's send, were it ever to finish, does not undo the delivery.
      held[0]!.writeHead(500).end();
      await dying;
      expect(await deliveries()).toMatchObject([{ status: "delivered", attempts: 1 }]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 60_000);
});
