import { type AddressInfo, createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookDispatcher } from "../src/webhooks/dispatcher.ts";
import { sendWebhook } from "../src/webhooks/send.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * A receiver (any tenant admin can register one at a public address) that answers every webhook
 * POST with `101 Switching Protocols`. Node's HTTP client hands such a response to an 'upgrade'
 * listener or, without one, destroys the socket without any 'response' or 'error': a send that
 * listens only for those never settled. Its dispatcher slot was lost for good, the row was sent
 * again each time its lease ran out (another slot), and stop() waited forever: a handful of
 * events to one such endpoint stopped webhook delivery for every tenant of the origin.
 */
async function upgradingReceiver(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on("error", () => {});
    sock.on("close", () => sockets.delete(sock));
    sock.once("data", () => {
      hits++;
      sock.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhello");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hits: () => hits,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** `p`, or "stuck" when it has not settled after `ms`. */
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, new Promise<"stuck">((r) => setTimeout(() => r("stuck"), ms).unref())]);

describe.each(dbKinds())("a receiver that switches protocols (101), on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind, { env: { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1" } });
  });
  afterAll(async () => {
    await o.close();
  });

  it("gets a failed attempt within the deadline, not a send that never settles", async () => {
    const rx = await upgradingReceiver();
    try {
      const out = await within(sendWebhook(new URL(rx.url), {}, "{}", { timeoutMs: 1000, allowPrivate: true }), 4000);
      expect(out).not.toBe("stuck");
      expect(out).toMatchObject({ status: 101, error: expect.stringMatching(/switch/i) });
    } finally {
      await rx.close();
    }
  });

  it("is retried like any other failure, and the dispatcher still stops", async () => {
    const rx = await upgradingReceiver();
    try {
      const hook = (await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { body: { url: rx.url } })).body.data.id;
      const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.id;
      expect((await o.json("POST", `/v1/certificates/${cert}/revoke`, { body: { reason: "upgrade test" } })).status).toBe(200);
      const d = new WebhookDispatcher(o.services, { allowPrivate: true, timeoutMs: 1000, baseBackoffMs: 10_000, log: () => {} });
      expect(await within(d.drainOnce(), 4000)).toBe(1);
      const log = await o.json<{ data: { status: string; attempts: number; last_status: number | null; log: { status: number | null }[] }[] }>(
        "GET",
        `/v1/tenant/webhooks/${hook}/deliveries`,
      );
      expect(log.body.data[0]).toMatchObject({ status: "pending", attempts: 1, last_status: 101 });
      expect(rx.hits()).toBe(1);
      d.start();
      d.kick();
      expect(await within(d.stop(), 4000)).not.toBe("stuck");
    } finally {
      await rx.close();
    }
  }, 30_000);
});
