import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookDispatcher } from "../src/webhooks/dispatcher.ts";
import { sendWebhook } from "../src/webhooks/send.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * How the sender reads what a receiver answers, beyond the status line: a 200 whose body the
 * connection cut short is no acknowledgement, and a receiver's Retry-After on 429/503 is honoured.
 */
type Answer = (res: ServerResponse) => void;

/** A real HTTP receiver on a free loopback port answering each request with the next scripted answer. */
async function receiver(script: Answer[], fallback: Answer): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let i = 0;
  const server: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => (script[i++] ?? fallback)(res));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    hits: () => i,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** 200 with a declared length, part of the body, then the connection drops (the receiver crashed mid-answer). */
const truncatedFixedLength: Answer = (res) => {
  res.writeHead(200, { "content-length": "1000" });
  res.write("x".repeat(10), () => res.socket?.destroy());
};
/** 200 chunked, one chunk, then the connection drops without the final chunk. */
const truncatedChunked: Answer = (res) => {
  res.writeHead(200, { "content-type": "text/plain" });
  res.write("partial", () => res.socket?.destroy());
};
const ok: Answer = (res) => void res.writeHead(204).end();
const status =
  (code: number, headers: Record<string, string> = {}): Answer =>
  (res) =>
    void res.writeHead(code, headers).end();

describe("a 200 whose body the connection cut short", () => {
  it.each([
    ["a declared content-length", truncatedFixedLength],
    ["chunked encoding", truncatedChunked],
  ])("is a failed attempt, not a delivery (%s)", async (_name, answer) => {
    const rx = await receiver([answer], ok);
    try {
      const out = await sendWebhook(new URL(rx.url), {}, "{}", { timeoutMs: 5_000, allowPrivate: true });
      expect(out.status).toBe(200);
      expect(out.error).toMatch(/truncated/);
      // A complete answer is still a delivery.
      expect(await sendWebhook(new URL(rx.url), {}, "{}", { timeoutMs: 5_000, allowPrivate: true })).toMatchObject({ status: 204, error: null });
    } finally {
      await rx.close();
    }
  });

  it("a body over 64 KiB that the sender stops reading is still the receiver's answer", async () => {
    const rx = await receiver([(res) => void res.writeHead(200).end("x".repeat(512 * 1024))], ok);
    try {
      expect(await sendWebhook(new URL(rx.url), {}, "{}", { timeoutMs: 5_000, allowPrivate: true })).toMatchObject({ status: 200, error: null });
    } finally {
      await rx.close();
    }
  });
});

interface Delivery {
  status: string;
  attempts: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
}

describe.each(dbKinds())("the dispatcher and what a receiver answers, on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind, { env: { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1" } });
  });
  afterAll(async () => {
    await o.close();
  });

  /** A new tenant with one endpoint at `url` and one revocation queued for it; returns its delivery log reader. */
  async function oneDeliveryTo(url: string): Promise<() => Promise<Delivery>> {
    const name = `rx-${crypto.randomUUID()}`;
    const key = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name } })).body.data.admin_api_key;
    const hook = (await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { key, body: { url } })).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { key, body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`, { key })).body.data.id;
    expect((await o.json("POST", `/v1/certificates/${cert}/revoke`, { key, body: { reason: "receiver test" } })).status).toBe(200);
    return async () => (await o.json<{ data: Delivery[] }>("GET", `/v1/tenant/webhooks/${hook}/deliveries`, { key })).body.data[0]!;
  }

  const dispatcher = (maxBackoffMs = 3_600_000) =>
    new WebhookDispatcher(o.services, { allowPrivate: true, timeoutMs: 5_000, baseBackoffMs: 10, maxBackoffMs, log: () => {} });

  it("a truncated 200 is retried, not marked delivered", async () => {
    const rx = await receiver([truncatedFixedLength], ok);
    try {
      const delivery = await oneDeliveryTo(rx.url);
      await dispatcher().drainOnce();
      expect(await delivery()).toMatchObject({ status: "pending", attempts: 1, last_status: 200, last_error: expect.stringMatching(/truncated/) });
    } finally {
      await rx.close();
    }
  }, 30_000);

  it.each([
    [429, "120"],
    [503, "120"],
    [503, "date"],
  ])(
    "a %s with Retry-After (%s) holds the next attempt until then, not the 10 ms backoff",
    async (code, after) => {
      const value = after === "date" ? new Date(o.services.clock.now().getTime() + 120_000).toUTCString() : after;
      const rx = await receiver([status(code, { "retry-after": value })], ok);
      try {
        const delivery = await oneDeliveryTo(rx.url);
        const before = o.services.clock.now().getTime();
        await dispatcher().drainOnce();
        const d = await delivery();
        expect(d).toMatchObject({ status: "pending", attempts: 1, last_status: code });
        // At least 110 s away (an HTTP-date has whole seconds); the backoff alone would be under 20 ms.
        expect(Date.parse(d.next_attempt_at!) - before).toBeGreaterThanOrEqual(110_000);
      } finally {
        await rx.close();
      }
    },
    30_000,
  );

  it("a Retry-After is bounded by the longest backoff, so a receiver cannot park alerts for days", async () => {
    const rx = await receiver([status(503, { "retry-after": String(30 * 86_400) })], ok);
    try {
      const delivery = await oneDeliveryTo(rx.url);
      const before = o.services.clock.now().getTime();
      await dispatcher(600_000).drainOnce();
      const wait = Date.parse((await delivery()).next_attempt_at!) - before;
      expect(wait).toBeGreaterThanOrEqual(590_000);
      expect(wait).toBeLessThanOrEqual(600_000 + 60_000);
    } finally {
      await rx.close();
    }
  }, 30_000);

  it("a Retry-After that cannot be read, or on another status, leaves the backoff as it is", async () => {
    for (const answer of [status(503, { "retry-after": "soon" }), status(500, { "retry-after": "120" })]) {
      const rx = await receiver([answer], ok);
      try {
        const delivery = await oneDeliveryTo(rx.url);
        const before = o.services.clock.now().getTime();
        await dispatcher().drainOnce();
        expect(Date.parse((await delivery()).next_attempt_at!) - before).toBeLessThan(60_000);
      } finally {
        await rx.close();
      }
    }
  }, 30_000);
});
