import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookEndpoints } from "../src/db/schema.ts";
import type { Resolver } from "../src/webhooks/address-guard.ts";
import { WebhookDispatcher } from "../src/webhooks/dispatcher.ts";
import { newSecret } from "../src/webhooks/sign.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * The tenant admin as attacker, with KAKUNIN_WEBHOOK_ALLOW_PRIVATE off: an endpoint whose name
 * resolved to a public address when it was registered, and resolves to an internal one by the time
 * an event is delivered (DNS rebinding). A real receiver listens on loopback, where the rebound
 * name points: the dispatcher's own delivery path must refuse it and never connect. The same
 * delivery with private addresses allowed reaches that receiver, so the test would see a connection.
 */
describe.each(dbKinds())("SSRF at delivery time, private addresses refused, on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind, { env: { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "0" } });
  });
  afterAll(async () => {
    await o.close();
  });

  it("the URL forms that name loopback, 'this network', CGNAT, multicast or link-local are refused at registration (422)", async () => {
    for (const url of [
      "http://2130706433/h", // 127.0.0.1 as one decimal number
      "http://0x7f.1/h", // hex and short form
      "http://0177.0.0.1/h", // octal
      "http://127.1/h",
      "http://[::]/h",
      "http://0/h",
      "http://100.64.0.1/h",
      "http://224.0.0.1/h",
      "http://[fe80::1]/h",
      "http://[64:ff9b::127.0.0.1]/h",
      "http://[::ffff:10.0.0.1]/h",
      "http://localhost./h",
    ]) {
      const r = await o.json<{ type: string }>("POST", "/v1/tenant/webhooks", { body: { url } });
      expect(r.status, url).toBe(422);
      expect(r.body.type, url).toBe("urn:kakunin:problem:webhook-url-refused");
    }
  });

  it("a name that rebinds to loopback, metadata or a mapped private address is refused at delivery and never connected to", async () => {
    let hits = 0;
    const server = createServer((req, res) => {
      hits++;
      req.resume();
      res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const port = (server.address() as AddressInfo).port;
      const tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
      // Registered while the name resolved publicly (a row as createWebhook writes it); a trailing
      // dot is the same name to DNS and must not slip past the check either.
      await o.services.db
        .insert(webhookEndpoints)
        .values({ tenantId, url: `http://rebind.example.:${port}/h`, ...newSecret(), createdAt: o.services.clock.now() });
      const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.id;
      expect((await o.json("POST", `/v1/certificates/${cert}/revoke`, { body: { reason: "rebinding drill" } })).status).toBe(200);
      const hook = (await o.json<{ data: { id: string }[] }>("GET", "/v1/tenant/webhooks")).body.data[0]!.id;
      const delivery = async () =>
        (await o.json<{ data: { status: string; log: { error: string | null }[] }[] }>("GET", `/v1/tenant/webhooks/${hook}/deliveries`)).body.data[0]!;

      const asked: string[] = [];
      for (const [address, family] of [
        ["127.0.0.1", 4],
        ["169.254.169.254", 4],
        ["::ffff:127.0.0.1", 6],
        ["::ffff:10.0.0.1", 6],
        ["0.0.0.0", 4],
      ] as const) {
        const resolve: Resolver = async (host) => {
          asked.push(host);
          return [{ address, family }];
        };
        const d = new WebhookDispatcher(o.services, { allowPrivate: false, resolve, timeoutMs: 5_000, baseBackoffMs: 1, maxBackoffMs: 1, log: () => {} });
        await d.drainOnce();
        // Due again at once (1 ms backoff on a clock that moves): wait until it is.
        await new Promise((r) => setTimeout(r, 5));
      }
      expect(hits).toBe(0);
      expect(asked.length).toBeGreaterThanOrEqual(5);
      const refused = await delivery();
      expect(refused.status).toBe("pending");
      expect(refused.log.length).toBe(5);
      for (const a of refused.log) expect(a.error).toMatch(/^refused: rebind\.example\.? resolves to a non-public address/);

      // Control: the very same delivery, private addresses allowed, does reach the receiver.
      const allowed = new WebhookDispatcher(o.services, {
        allowPrivate: true,
        resolve: async () => [{ address: "127.0.0.1", family: 4 }],
        timeoutMs: 5_000,
        log: () => {},
      });
      await allowed.drainOnce();
      expect(hits).toBe(1);
      expect((await delivery()).status).toBe("delivered");
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 60_000);
});
