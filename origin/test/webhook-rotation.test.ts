import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookDispatcher } from "../src/webhooks/dispatcher.ts";
import { verifyWebhook } from "../src/webhooks/sign.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * The documented secret rotation: register the endpoint again (a new secret and key id), let the
 * receiver accept both keys, then remove the old endpoint. While both exist every event goes to
 * each, and the receiver must be able to tell that the two requests are one event: it dedupes on
 * webhook-id (= the CloudEvents id). With an id per delivery it could not, and processed every
 * alert twice (two pages, two tickets) for the whole overlap.
 */
describe.each(dbKinds())("webhook secret rotation on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind, { env: { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1" } });
  });
  afterAll(async () => {
    await o.close();
  });

  it("one event sent to the old and the new endpoint carries one CloudEvents id (webhook-id), each signed with its own key", async () => {
    const got: { headers: IncomingHttpHeaders; body: string }[] = [];
    const server: Server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        got.push({ headers: req.headers, body });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
    try {
      const register = async () =>
        (await o.json<{ data: { id: string; secret: string; key_id: string } }>("POST", "/v1/tenant/webhooks", { body: { url } })).body.data;
      const before = await register();
      const after = await register();
      const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.id;
      expect((await o.json("POST", `/v1/certificates/${cert}/revoke`, { body: { reason: "rotation test" } })).status).toBe(200);
      const d = new WebhookDispatcher(o.services, { allowPrivate: true, timeoutMs: 2_000, log: () => {} });
      await d.drainOnce();
      expect(got).toHaveLength(2);

      const ids = got.map((r) => String(r.headers["webhook-id"]));
      expect(new Set(ids).size).toBe(1);
      expect(got.map((r) => (JSON.parse(r.body) as { id: string }).id)).toEqual(ids);
      // Each request verifies with the key its key id names, and only with that one.
      const nowS = Math.floor(Date.now() / 1000);
      for (const r of got) {
        const own = r.headers["webhook-signature-key-id"] === before.key_id ? before : after;
        const other = own === before ? after : before;
        const h = { id: String(r.headers["webhook-id"]), timestamp: String(r.headers["webhook-timestamp"]), signature: String(r.headers["webhook-signature"]) };
        expect(verifyWebhook(own.secret, h, r.body, nowS)).toBe(true);
        expect(verifyWebhook(other.secret, h, r.body, nowS)).toBe(false);
      }
      expect(new Set(got.map((r) => r.headers["webhook-signature-key-id"]))).toEqual(new Set([before.key_id, after.key_id]));

      // Each endpoint's log still has its own delivery (replayed by that id), naming the event.
      for (const hook of [before.id, after.id]) {
        const log = await o.json<{ data: { id: string; event_id: string; status: string }[] }>("GET", `/v1/tenant/webhooks/${hook}/deliveries`);
        expect(log.body.data).toHaveLength(1);
        expect(log.body.data[0]).toMatchObject({ event_id: ids[0], status: "delivered" });
      }
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 30_000);
});
