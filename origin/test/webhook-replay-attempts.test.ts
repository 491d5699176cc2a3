import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookDispatcher } from "../src/webhooks/dispatcher.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Delivery {
  id: string;
  status: string;
  attempts: number;
  log: { attempt: number; status: number | null }[];
}

/**
 * A replay gives a dead delivery a fresh retry budget (`attempts` counts since the replay), but the
 * delivery log numbers every attempt the delivery ever had in order: numbering restarted at 1, an
 * on-call engineer reading "attempt 1, 2, 1" could not tell the replay's attempts from the
 * originals, and (delivery, attempt) named two different requests.
 */
describe.each(dbKinds())("attempt numbers across a replay, on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind, { env: { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1" } });
  });
  afterAll(async () => {
    await o.close();
  });

  it("continue after a replay, while the replay gets the full retry budget", async () => {
    let answer = 500;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => void res.writeHead(answer).end());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const key = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `replay-${kind}` } })).body.data.admin_api_key;
      const hook = (await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { key, body: { url } })).body.data.id;
      const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { key, body: agentBody() })).body.data.id;
      const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`, { key })).body.data.id;
      expect((await o.json("POST", `/v1/certificates/${cert}/revoke`, { key, body: { reason: "replay drill" } })).status).toBe(200);
      const delivery = async () => (await o.json<{ data: Delivery[] }>("GET", `/v1/tenant/webhooks/${hook}/deliveries`, { key })).body.data[0]!;

      // Backoff 0-ish and a clock that does not move: every pass finds the delivery due again.
      const d = new WebhookDispatcher(o.services, { allowPrivate: true, timeoutMs: 5_000, baseBackoffMs: 1, maxBackoffMs: 1, maxAttempts: 2, log: () => {} });
      const drain = async (until: (x: Delivery) => boolean) => {
        for (let i = 0; i < 200 && !until(await delivery()); i++) {
          await d.drainOnce();
          await new Promise((r) => setTimeout(r, 5));
        }
      };
      await drain((x) => x.status === "dead");
      expect(await delivery()).toMatchObject({ status: "dead", attempts: 2, log: [{ attempt: 1 }, { attempt: 2 }] });

      // Replayed: a full budget again (2 more failures before it is dead)…
      expect((await o.json("POST", `/v1/tenant/webhooks/${hook}/replay`, { key, body: {} })).status).toBe(200);
      await d.drainOnce();
      expect(await delivery()).toMatchObject({ status: "pending", attempts: 1 });
      // …and then the receiver recovers.
      answer = 204;
      await drain((x) => x.status === "delivered");
      const done = await delivery();
      expect(done).toMatchObject({ status: "delivered", attempts: 2 });
      expect(done.log.map((a) => [a.attempt, a.status])).toEqual([
        [1, 500],
        [2, 500],
        [3, 500],
        [4, 204],
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 60_000);
});
