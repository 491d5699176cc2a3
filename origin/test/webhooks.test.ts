import { createHmac } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, inArray } from "drizzle-orm";
import { webhookAttempts, webhookDeliveries, webhookEndpoints } from "../src/db/schema.ts";
import { WebhookDispatcher } from "../src/webhooks/dispatcher.ts";
import { isPrivateAddress, resolvePublic } from "../src/webhooks/address-guard.ts";
import { sendWebhook } from "../src/webhooks/send.ts";
import { agentBody, allPages, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/** A delivery as GET /v1/tenant/webhooks/:id/deliveries lists it (the fields these tests read). */
interface Delivery {
  id: string;
  status: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
  log: { status: number | null; error: string | null }[];
}

interface Received {
  headers: IncomingMessage["headers"];
  body: string;
  /** The request's path and query as the receiver got them. */
  path: string;
}

/** A real HTTP receiver on a free loopback port whose behaviour per request is scripted. */
async function receiver(script: ("fail" | "hang" | "ok" | "big" | "trickle")[], fallback: "fail" | "ok" = "ok") {
  const got: Received[] = [];
  let i = 0;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => {
      body += c.toString();
    });
    req.on("end", () => {
      got.push({ headers: req.headers, body, path: req.url ?? "" });
      const step = script[i++] ?? fallback;
      if (step === "hang") return; // never answers: the sender must time out
      // Answers 200 with a body far over what the sender reads (it stops reading at 64 KiB).
      if (step === "big") return void res.writeHead(200, { "content-type": "text/plain" }).end("x".repeat(512 * 1024));
      if (step === "trickle") {
        // Answers 200 at once, then a body that never ends: the sender's deadline must end it.
        res.writeHead(200, { "content-type": "text/plain" });
        const t = setInterval(() => res.write("x"), 20);
        res.on("close", () => clearInterval(t));
        return;
      }
      res.writeHead(step === "ok" ? 204 : 500).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    got,
    setFallback: (f: "fail" | "ok") => {
      fallback = f;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The documented check, written independently of the origin's signer. */
function verifies(secret: string, r: Received, nowS = Math.floor(Date.now() / 1000)): boolean {
  const id = String(r.headers["webhook-id"]);
  const ts = Number(r.headers["webhook-timestamp"]);
  if (Math.abs(nowS - ts) > 300) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = `v1,${createHmac("sha256", key).update(`${id}.${ts}.${r.body}`).digest("base64")}`;
  return String(r.headers["webhook-signature"]).split(" ").includes(expected);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(dbKinds())("webhooks on %s", (kind) => {
  let o: TestOrigin;
  let auditor = "";
  beforeAll(async () => {
    o = await startTestOrigin(kind, { env: { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1" } });
    auditor = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "a", role: "auditor" } })).body.data.key;
  });
  afterAll(async () => {
    await o.close();
  });

  async function revokeOne(): Promise<{ agent: string; cert: string }> {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.id;
    expect((await o.json("POST", `/v1/certificates/${cert}/revoke`, { body: { reason: "webhook test" } })).status).toBe(200);
    return { agent, cert };
  }

  /** An endpoint's delivery log, newest first (GET …/deliveries), as the admin (or `key`) reads it. */
  const deliveriesOf = async (hook: string, q: { key?: string; status?: string } = {}) =>
    (await o.json<{ data: Delivery[] }>("GET", `/v1/tenant/webhooks/${hook}/deliveries${q.status ? `?status=${q.status}` : ""}`, { key: q.key })).body.data;

  /** A new tenant (its admin key and id), named for this database kind. */
  const tenantOf = async (name: string) => {
    const key = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `${name}-${kind}` } })).body.data.admin_api_key;
    return { key, id: (await o.json<{ data: { id: string } }>("GET", "/v1/tenant", { key })).body.data.id };
  };
  /** Registers `url` as one of tenant `t`'s endpoints; returns its id. */
  const hook = async (t: { key: string }, url: string) =>
    (await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { key: t.key, body: { url } })).body.data.id;

  async function drainUntil(d: WebhookDispatcher, done: () => Promise<boolean>, ms = 15_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await done())) {
      if (Date.now() > end) throw new Error("webhook not delivered in time");
      await d.drainOnce();
      await sleep(20);
    }
  }

  it("a receiver that fails (500), then times out, then recovers gets the event: nothing lost, same id, signature verifies", async () => {
    const rx = await receiver(["fail", "hang", "ok"]);
    const created = await o.json<{ data: { id: string; secret: string; key_id: string } }>("POST", "/v1/tenant/webhooks", { body: { url: rx.url } });
    expect(created.status).toBe(201);
    const { id: hook, secret, key_id } = created.body.data;
    expect(secret).toMatch(/^whsec_/);
    const d = new WebhookDispatcher(o.services, { allowPrivate: true, timeoutMs: 300, baseBackoffMs: 20, maxBackoffMs: 100, maxAttempts: 6, log: () => {} });
    const { agent } = await revokeOne();
    const deliveries = () => deliveriesOf(hook, { key: auditor });
    await drainUntil(d, async () => (await deliveries()).every((x) => x.status === "delivered") && (await deliveries()).length > 0);
    await rx.close();

    expect(rx.got).toHaveLength(3);
    const ids = new Set(rx.got.map((r) => r.headers["webhook-id"]));
    expect(ids.size).toBe(1);
    for (const r of rx.got) {
      expect(verifies(secret, r)).toBe(true);
      expect(r.headers["webhook-signature-key-id"]).toBe(key_id);
      expect(r.headers["content-type"]).toMatch(/^application\/cloudevents\+json/);
    }
    expect(verifies("whsec_" + Buffer.alloc(32).toString("base64"), rx.got[2]!)).toBe(false);
    const ev = JSON.parse(rx.got[2]!.body) as {
      specversion: string;
      id: string;
      type: string;
      source: string;
      subject: string;
      time: string;
      data: { agent_id: string };
    };
    expect(ev).toMatchObject({
      specversion: "1.0",
      id: [...ids][0],
      type: "io.kakunin.certificate.revoked",
      subject: `urn:kakunin:agent:${agent}`,
      data: { agent_id: agent },
    });
    expect(ev.source).toMatch(/^urn:kakunin:tenant:/);

    const [log] = await deliveries();
    expect(log).toMatchObject({ status: "delivered", attempts: 3 });
    expect(log!.log.map((a) => a.status)).toEqual([500, null, 204]);
    expect(log!.log[1]!.error).toMatch(/timed out/);
  }, 30_000);

  it("pages the delivery log, newest first, every delivery exactly once (ties in time included), with or without a status; a forged cursor is 422", async () => {
    const tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const hookId = (await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { body: { url: "http://127.0.0.1:9/never" } })).body.data.id;
    const t0 = Date.now() - 3_600_000;
    // Seven deliveries, three of them at the same millisecond (one alert fanned out): five dead.
    const at = [0, 0, 0, 1, 2, 3, 4].map((i) => new Date(t0 + i));
    const rows = at.map((createdAt, i) => ({
      tenantId,
      endpointId: hookId,
      eventType: "io.kakunin.certificate.revoked",
      payload: { specversion: "1.0", n: i },
      status: (i < 5 ? "dead" : "delivered") as "dead" | "delivered",
      nextAttemptAt: createdAt,
      createdAt,
    }));
    const made = await o.services.db.insert(webhookDeliveries).values(rows).returning({ id: webhookDeliveries.id, status: webhookDeliveries.status });
    const pageAll = async (status?: string) =>
      (await allPages<Delivery>(o, `/v1/tenant/webhooks/${hookId}/deliveries${status ? `?status=${status}` : ""}`, 2, auditor)).rows;
    const all = await pageAll();
    expect(all.map((x) => x.id).sort()).toEqual(made.map((m) => m.id).sort());
    const times = all.map((x) => Date.parse(x.created_at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    const dead = await pageAll("dead");
    expect(dead.map((x) => x.id).sort()).toEqual(
      made
        .filter((m) => m.status === "dead")
        .map((m) => m.id)
        .sort(),
    );
    const forged = await o.json<{ errors?: unknown[] }>("GET", `/v1/tenant/webhooks/${hookId}/deliveries?cursor=forged`);
    expect(forged.status).toBe(422);
    expect((await o.json("DELETE", `/v1/tenant/webhooks/${hookId}`)).status).toBe(200);
  });

  it("lists every active endpoint: a tenant over a lowered KAKUNIN_WEBHOOK_MAX_ENDPOINTS still sees all it has (no silent cut at 100)", async () => {
    const t = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `many-hooks-${kind}` } })).body.data.admin_api_key;
    const tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant", { key: t })).body.data.id;
    // Made while the cap was higher (the cap allows up to 1,000); rows written directly.
    const at = Date.now() - 60_000;
    await o.services.db.insert(webhookEndpoints).values(
      Array.from({ length: 130 }, (_, i) => ({
        tenantId,
        url: `https://hooks.example/${i}`,
        secret: "c2VjcmV0",
        keyId: `k${i}`,
        createdAt: new Date(at + i),
      })),
    );
    const list = await o.json<{ data: { url: string }[]; next_cursor: string | null }>("GET", "/v1/tenant/webhooks", { key: t });
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(130);
    expect(list.body.next_cursor).toBeNull();
  });

  it("after N failed attempts a delivery is dead-lettered, listed, and replayed with the same id once the receiver recovers", async () => {
    const rx = await receiver([], "fail");
    const { id: hook } = (
      await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { body: { url: rx.url, event_types: ["io.kakunin.certificate.revoked"] } })
    ).body.data;
    const d = new WebhookDispatcher(o.services, { allowPrivate: true, timeoutMs: 300, baseBackoffMs: 10, maxBackoffMs: 20, maxAttempts: 3, log: () => {} });
    await revokeOne();
    const list = (status?: string) => deliveriesOf(hook, { status });
    await drainUntil(d, async () => (await list("dead")).length === 1);
    expect((await list("dead"))[0]!.attempts).toBe(3);
    expect(rx.got).toHaveLength(3);
    // Nothing more is sent to a dead delivery.
    await d.drainOnce();
    expect(rx.got).toHaveLength(3);

    rx.setFallback("ok");
    expect((await o.json("POST", `/v1/tenant/webhooks/${hook}/replay`, { key: auditor, body: {} })).status).toBe(403);
    const replay = await o.json<{ data: { requeued: number } }>("POST", `/v1/tenant/webhooks/${hook}/replay`, { body: {} });
    expect(replay.body.data.requeued).toBe(1);
    await drainUntil(d, async () => (await list("delivered")).length === 1);
    await rx.close();
    expect(new Set(rx.got.map((r) => r.headers["webhook-id"])).size).toBe(1);
  }, 30_000);

  it("a replay made while an attempt is in flight is kept: the attempt's outcome is logged, not written over the requeue", async () => {
    const rx = await receiver(["hang"], "ok");
    const hook = (await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { body: { url: rx.url } })).body.data.id;
    const d = new WebhookDispatcher(o.services, { allowPrivate: true, timeoutMs: 1_000, maxAttempts: 1, log: () => {} });
    await revokeOne();
    const deliveries = () => deliveriesOf(hook);
    // The only attempt allowed is in flight (the receiver holds it until the sender times out)…
    const pass = d.drainOnce();
    while (rx.got.length === 0) await sleep(10);
    const [inFlight] = await deliveries();
    // …when an admin replays the delivery: acknowledged as requeued.
    const replay = await o.json<{ data: { requeued: number } }>("POST", `/v1/tenant/webhooks/${hook}/replay`, { body: { delivery_ids: [inFlight!.id] } });
    expect(replay.body.data.requeued).toBe(1);
    // Other endpoints of the tenant (earlier tests) have deliveries in the same pass.
    expect(await pass).toBeGreaterThanOrEqual(1);
    // The timed-out attempt would have dead-lettered it; the replay stands, and the attempt is in the log.
    const [after] = await deliveries();
    expect(after).toMatchObject({ status: "pending", attempts: 0 });
    expect(after!.log.map((a) => a.error)).toEqual([expect.stringMatching(/timed out/)]);
    await drainUntil(d, async () => (await deliveries())[0]!.status === "delivered");
    expect(rx.got).toHaveLength(2);
    await rx.close();

    // The same for a removal: an attempt in flight when the endpoint is removed does not put its
    // delivery back in the queue for a retry.
    const rx2 = await receiver(["hang"], "ok");
    const hook2 = (await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { body: { url: rx2.url } })).body.data.id;
    await revokeOne();
    const retrying = new WebhookDispatcher(o.services, { allowPrivate: true, timeoutMs: 1_000, maxAttempts: 5, log: () => {} });
    const pass2 = retrying.drainOnce();
    while (rx2.got.length === 0) await sleep(10);
    expect((await o.json("DELETE", `/v1/tenant/webhooks/${hook2}`)).status).toBe(200);
    await pass2;
    const [gone] = await deliveriesOf(hook2);
    expect(gone).toMatchObject({ status: "dead", last_error: "endpoint deleted" });
    await rx2.close();
  }, 30_000);

  it("a removed endpoint gets nothing more: DELETE (admin, audited) ends its pending deliveries, queues nothing new, replays nothing", async () => {
    const rx = await receiver([]);
    const { id: hook } = (
      await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { body: { url: rx.url, event_types: ["io.kakunin.certificate.revoked"] } })
    ).body.data;
    const d = new WebhookDispatcher(o.services, { allowPrivate: true, timeoutMs: 300, baseBackoffMs: 10, maxBackoffMs: 20, log: () => {} });
    await revokeOne();
    const list = () => deliveriesOf(hook);
    expect((await list()).map((x) => x.status)).toEqual(["pending"]);
    expect((await o.json("DELETE", `/v1/tenant/webhooks/${hook}`, { key: auditor })).status).toBe(403);
    const removed = await o.json<{ data: { id: string } }>("DELETE", `/v1/tenant/webhooks/${hook}`);
    expect(removed.status).toBe(200);
    expect(removed.body.data.id).toBe(hook);
    // The delivery log stays; the pending delivery ended dead and is never sent.
    expect((await list()).map((x) => x.status)).toEqual(["dead"]);
    await d.drainOnce();
    await revokeOne();
    await d.drainOnce();
    expect(rx.got).toHaveLength(0);
    expect(await list()).toHaveLength(1);
    expect((await o.json("POST", `/v1/tenant/webhooks/${hook}/replay`, { body: {} })).status).toBe(404);
    expect((await o.json("DELETE", `/v1/tenant/webhooks/${hook}`)).status).toBe(404);
    const listed = await o.json<{ data: { id: string }[] }>("GET", "/v1/tenant/webhooks");
    expect(listed.body.data.map((x) => x.id)).not.toContain(hook);
    const audit = await o.json<{ data: { entry: { data: { webhook_id: string; cancelled_deliveries: number } } }[] }>(
      "GET",
      "/v1/audit/entries?kind=webhook.deleted&limit=1000",
    );
    expect(audit.body.data.find((e) => e.entry.data.webhook_id === hook)?.entry.data.cancelled_deliveries).toBe(1);
    await rx.close();
  }, 30_000);

  it("a token in the URL's query is the receiver's credential: admins see it and deliveries use it; auditors and the audit trail read REDACTED", async () => {
    const rx = await receiver([]);
    const url = `${rx.url}?token=s3cr3t-t0ken&team=ops`;
    const created = await o.json<{ data: { id: string; url: string } }>("POST", "/v1/tenant/webhooks", {
      body: { url, event_types: ["io.kakunin.certificate.revoked"] },
    });
    expect(created.status).toBe(201);
    expect(created.body.data.url).toBe(url);
    const hook = created.body.data.id;
    const listed = async (key?: string) =>
      (await o.json<{ data: { id: string; url: string }[] }>("GET", "/v1/tenant/webhooks", { key })).body.data.find((w) => w.id === hook)!.url;
    expect(await listed()).toBe(url);
    expect(await listed(auditor)).toBe(`${rx.url}?token=REDACTED&team=REDACTED`);

    const d = new WebhookDispatcher(o.services, { allowPrivate: true, timeoutMs: 2_000, baseBackoffMs: 10, maxBackoffMs: 20, log: () => {} });
    await revokeOne();
    await drainUntil(d, async () => rx.got.length > 0);
    expect(rx.got[0]!.path).toBe("/hook?token=s3cr3t-t0ken&team=ops");

    expect((await o.json("DELETE", `/v1/tenant/webhooks/${hook}`)).status).toBe(200);
    for (const kind of ["webhook.created", "webhook.deleted"]) {
      const audit = await o.json<{ data: { entry: { data: { webhook_id: string; url: string } } }[] }>("GET", `/v1/audit/entries?kind=${kind}&limit=1000`, {
        key: auditor,
      });
      const entry = audit.body.data.find((e) => e.entry.data.webhook_id === hook);
      expect(entry?.entry.data.url, kind).toBe(`${rx.url}?token=REDACTED&team=REDACTED`);
      expect(JSON.stringify(audit.body), kind).not.toContain("s3cr3t");
    }
    await rx.close();
  }, 30_000);

  it("a renewal queues io.kakunin.certificate.renewed naming the agent, the successor and the predecessor", async () => {
    const rx = await receiver([]);
    const { id: hook } = (
      await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { body: { url: rx.url, event_types: ["io.kakunin.certificate.renewed"] } })
    ).body.data;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const first = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const renewed = await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certificates/renew`, { body: {} });
    expect(renewed.status).toBe(201);
    const d = new WebhookDispatcher(o.services, { allowPrivate: true, timeoutMs: 300, baseBackoffMs: 10, maxBackoffMs: 20, log: () => {} });
    await drainUntil(d, async () => rx.got.length === 1);
    await rx.close();
    const ev = JSON.parse(rx.got[0]!.body) as { type: string; subject: string; data: Record<string, unknown> };
    expect(ev).toMatchObject({
      type: "io.kakunin.certificate.renewed",
      subject: `urn:kakunin:agent:${agent}`,
      data: {
        agent_id: agent,
        certificate_id: renewed.body.data.id,
        serial_number: renewed.body.data.serial_number,
        predecessor_id: first.id,
        predecessor_serial: first.serial_number,
      },
    });
    // The endpoint filtered on renewals: the certification itself sent nothing else.
    const list = await deliveriesOf(hook);
    expect(list).toHaveLength(1);
  }, 30_000);

  it("one tenant's backlog to receivers that hang does not hold up another tenant's delivery (round robin per tenant and endpoint)", async () => {
    const slow = await receiver([], "ok");
    const hangs = await receiver(Array.from({ length: 200 }, () => "hang" as const));
    const fast = await receiver([], "ok");
    const noisy = await tenantOf("noisy");
    const quiet = await tenantOf("quiet");
    const noisyHooks = [await hook(noisy, hangs.url), await hook(noisy, hangs.url), await hook(noisy, slow.url)];
    const quietHook = await hook(quiet, fast.url);
    // The noisy tenant's backlog: 60 deliveries queued well before the quiet tenant's one.
    const t0 = new Date(Date.now() - 600_000);
    const row = (tenantId: string, endpointId: string, at: Date) => ({
      tenantId,
      endpointId,
      eventType: "io.kakunin.certificate.revoked",
      payload: { specversion: "1.0" },
      nextAttemptAt: at,
      createdAt: at,
    });
    await o.services.db.insert(webhookDeliveries).values(Array.from({ length: 60 }, (_, i) => row(noisy.id, noisyHooks[i % 3]!, new Date(t0.getTime() + i))));
    await o.services.db.insert(webhookDeliveries).values(row(quiet.id, quietHook, new Date()));
    // The send deadline bounds only how long the hanging sends take: 300 ms until 2026-12-07, which
    // a loaded machine (load 25 on 2 cores) missed for the working receivers too (a flaky failure).
    const d = new WebhookDispatcher(o.services, { allowPrivate: true, timeoutMs: 2_000, batchSize: 20, log: () => {} });
    // One pass: the quiet tenant's only delivery is in it.
    await d.drainOnce();
    expect(fast.got).toHaveLength(1);
    const [q] = await deliveriesOf(quietHook, { key: quiet.key });
    expect(q!.status).toBe("delivered");
    // And the noisy tenant's endpoints share its slots: the working receiver is not starved by the hanging ones.
    expect(slow.got.length).toBeGreaterThan(0);
    for (const h of noisyHooks) await o.json("DELETE", `/v1/tenant/webhooks/${h}`, { key: noisy.key });
    await o.json("DELETE", `/v1/tenant/webhooks/${quietHook}`, { key: quiet.key });
    await Promise.all([slow.close(), hangs.close(), fast.close()]);
  }, 30_000);

  it("a running dispatcher keeps delivering while receivers hang: a slot that frees is filled at once, not after the pass's slowest send", async () => {
    // Until 2026-12-06 each pass waited for all its sends: with one receiver that never answers,
    // every tenant's deliveries went out one batch per receiver timeout (20 per 10 s origin-wide).
    const hangs = await receiver(Array.from({ length: 200 }, () => "hang" as const));
    const fast = await receiver([], "ok");
    const noisy = await tenantOf("hanging");
    const quiet = await tenantOf("waiting");
    const noisyHook = await hook(noisy, hangs.url);
    const quietHook = await hook(quiet, fast.url);
    const row = (tenantId: string, endpointId: string) => ({
      tenantId,
      endpointId,
      eventType: "io.kakunin.certificate.revoked",
      payload: { specversion: "1.0" },
      nextAttemptAt: new Date(),
      createdAt: new Date(),
    });
    // More than the dispatcher's 20 slots: the hanging endpoint must not take them all (4 in flight at most).
    await o.services.db.insert(webhookDeliveries).values(Array.from({ length: 60 }, () => row(noisy.id, noisyHook)));
    const d = new WebhookDispatcher(o.services, { allowPrivate: true, timeoutMs: 4_000, batchSize: 20, pollMs: 50, log: () => {} });
    d.start();
    try {
      // The hanging sends are under way (the receiver has them), then the other tenant's alert is queued.
      const until = Date.now() + 3_000;
      while (hangs.got.length === 0 && Date.now() < until) await sleep(20);
      expect(hangs.got.length).toBeGreaterThan(0);
      await sleep(500);
      // However many passes ran meanwhile, the hanging endpoint holds at most 4 sends.
      expect(hangs.got.length).toBeLessThanOrEqual(4);
      const queued = Date.now();
      await o.services.db.insert(webhookDeliveries).values(row(quiet.id, quietHook));
      while (fast.got.length === 0 && Date.now() - queued < 6_000) await sleep(20);
      expect(fast.got).toHaveLength(1);
      // Well inside the hanging sends' 4 s timeout.
      expect(Date.now() - queued).toBeLessThan(2_000);
    } finally {
      await o.json("DELETE", `/v1/tenant/webhooks/${noisyHook}`, { key: noisy.key });
      await d.stop();
      await o.json("DELETE", `/v1/tenant/webhooks/${quietHook}`, { key: quiet.key });
      await Promise.all([hangs.close(), fast.close()]);
    }
  }, 30_000);

  it("the delivery log is kept for the retention period: older delivered and dead deliveries and their attempts are pruned, pending ones never", async () => {
    const hookId = (await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { body: { url: "http://127.0.0.1:9/retention" } })).body.data.id;
    const tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const day = 86_400_000;
    const now = Date.now();
    const rows = (["delivered", "dead", "pending", "delivered"] as const).map((status, i) => ({
      tenantId,
      endpointId: hookId,
      eventType: "io.kakunin.certificate.revoked",
      payload: {},
      status,
      // The last one is recent; the others are 40 days old.
      createdAt: new Date(now - (i === 3 ? 1 : 40) * day),
      nextAttemptAt: new Date(now + 3_600_000),
    }));
    const made = await o.services.db.insert(webhookDeliveries).values(rows).returning({ id: webhookDeliveries.id });
    await o.services.db
      .insert(webhookAttempts)
      .values(made.map((m, i) => ({ deliveryId: m.id, endpointId: hookId, attempt: 1, at: rows[i]!.createdAt, status: 500, durationMs: 5 })));
    const d = new WebhookDispatcher(o.services, { retentionDays: 30, log: () => {} });
    expect(await d.prune(new Date(now))).toBe(2);
    const left = await o.services.db
      .select({ id: webhookDeliveries.id, status: webhookDeliveries.status })
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.endpointId, hookId));
    expect(left.map((r) => r.status).sort()).toEqual(["delivered", "pending"]);
    const attempts = await o.services.db
      .select()
      .from(webhookAttempts)
      .where(
        inArray(
          webhookAttempts.deliveryId,
          made.map((m) => m.id),
        ),
      );
    expect(attempts.map((a) => a.deliveryId).sort()).toEqual(left.map((r) => r.id).sort());
    expect(await d.prune(new Date(now))).toBe(0);
    await o.json("DELETE", `/v1/tenant/webhooks/${hookId}`);
  });

  it("a tenant has at most 20 endpoints (409 webhook-limit, even when created at once); a removed one frees its place", async () => {
    const admin = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `cap-${kind}` } })).body.data.admin_api_key;
    const create = (i: number) =>
      o.json<{ data: { id: string }; type: string }>("POST", "/v1/tenant/webhooks", { key: admin, body: { url: `http://127.0.0.1:9/h${i}` } });
    const ids: string[] = [];
    for (let i = 0; i < 19; i++) {
      const r = await create(i);
      expect(r.status).toBe(201);
      ids.push(r.body.data.id);
    }
    // Five at once for the last place: one gets it.
    const race = await Promise.all([19, 20, 21, 22, 23].map(create));
    expect(race.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    const refused = race.find((r) => r.status === 409)!;
    expect(refused.body.type).toBe("urn:kakunin:problem:webhook-limit");
    expect(refused.res.headers.get("content-type")).toContain("application/problem+json");
    expect((await o.json<{ data: unknown[] }>("GET", "/v1/tenant/webhooks", { key: admin })).body.data).toHaveLength(20);
    expect((await o.json("DELETE", `/v1/tenant/webhooks/${ids[0]}`, { key: admin })).status).toBe(200);
    expect((await create(30)).status).toBe(201);
    expect((await create(31)).status).toBe(409);
  });

  it("bad input: 422 problems for URLs that are not http(s), carry credentials, or unknown event types; another tenant gets 404", async () => {
    for (const body of [
      { url: "ftp://x.example/h" },
      { url: "not a url" },
      { url: "https://u:p@x.example/h" },
      { url: "https://x.example/h", event_types: ["nope"] },
      {},
      { url: "https://x.example", extra: 1 },
    ]) {
      const r = await o.json<{ type: string }>("POST", "/v1/tenant/webhooks", { body });
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.res.headers.get("content-type")).toContain("application/problem+json");
    }
    const other = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `other-${kind}` } })).body.data.admin_api_key;
    const mine = (await o.json<{ data: { id: string }[] }>("GET", "/v1/tenant/webhooks")).body.data[0]!.id;
    expect((await o.json("GET", `/v1/tenant/webhooks/${mine}/deliveries`, { key: other })).status).toBe(404);
    expect((await o.json("POST", `/v1/tenant/webhooks/${mine}/replay`, { key: other, body: {} })).status).toBe(404);
    expect((await o.json<{ data: unknown[] }>("GET", "/v1/tenant/webhooks", { key: other })).body.data).toEqual([]);
  });
});

describe.each(dbKinds())("webhook address guard on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("refuses loopback, private, link-local and reserved targets (422) unless KAKUNIN_WEBHOOK_ALLOW_PRIVATE=1", async () => {
    for (const url of [
      "http://127.0.0.1:9/h",
      "http://localhost/h",
      "http://[::1]/h",
      "https://10.1.2.3/h",
      "http://169.254.169.254/latest",
      "http://[::ffff:192.168.1.1]/",
      "http://0.0.0.0/",
      // IPv6 forms that embed or translate a private IPv4, and IPv6 ranges that are not global.
      "http://[::127.0.0.1]/",
      "http://[::a9fe:a9fe]/",
      "http://[2002:7f00:1::]/",
      "http://[2002:a9fe:a9fe::]/",
      "http://[64:ff9b:1::7f00:1]/",
      "http://[::ffff:0:7f00:1]/",
      "http://[2001::1]/",
      "http://[fec0::1]/",
      "http://[2001:10::1]/",
      "http://[5f00::1]/",
      "http://[3fff::1]/",
      // Port 0 is no service's port.
      "http://example.com:0/",
    ]) {
      const r = await o.json<{ type: string }>("POST", "/v1/tenant/webhooks", { body: { url } });
      expect(r.status, url).toBe(422);
      expect(r.body.type).toBe("urn:kakunin:problem:webhook-url-refused");
    }
  });

  it("a receiver that answers with a huge body, or one that never ends, does not hold the sender past its deadline", async () => {
    const rx = await receiver(["big", "trickle"]);
    try {
      const t0 = Date.now();
      const big = await Promise.race([
        sendWebhook(new URL(rx.url), {}, "{}", { timeoutMs: 2000, allowPrivate: true }),
        new Promise<"stuck">((r) => setTimeout(() => r("stuck"), 5000)),
      ]);
      // The receiver said 200: delivered, whatever it sent after.
      expect(big).toMatchObject({ status: 200, error: null });
      const trickle = await Promise.race([
        sendWebhook(new URL(rx.url), {}, "{}", { timeoutMs: 500, allowPrivate: true }),
        new Promise<"stuck">((r) => setTimeout(() => r("stuck"), 5000)),
      ]);
      // Ended by the deadline: an exchange that did not complete in time is a failure, retried later
      // (the receiver de-duplicates by webhook-id).
      expect(trickle).toMatchObject({ status: null, error: expect.stringMatching(/timed out/) });
      expect(trickle !== "stuck" && trickle.durationMs).toBeGreaterThanOrEqual(450);
      expect(Date.now() - t0).toBeLessThan(5000);
      // A resolver that never answers is inside the deadline too: DNS is part of the exchange (a
      // send that outlasted its lease would be sent again by another origin).
      const silent = () => new Promise<never>(() => {});
      const dns = await Promise.race([
        sendWebhook(new URL("http://hooks.example/h"), {}, "{}", { timeoutMs: 500, allowPrivate: false, resolve: silent }),
        new Promise<"stuck">((r) => setTimeout(() => r("stuck"), 5000)),
      ]);
      expect(dns).toMatchObject({ status: null, error: expect.stringMatching(/timed out/) });
    } finally {
      await rx.close();
    }
  });

  it("checks the address at delivery time: a name that rebinds to loopback after registration is refused, never connected to", async () => {
    expect(isPrivateAddress("8.8.8.8")).toBe(false);
    expect(isPrivateAddress("2606:4700::1111")).toBe(false);
    let answer = "93.184.216.34";
    const resolve = async () => [{ address: answer, family: 4 as const }];
    expect((await resolvePublic("hooks.example", false, resolve)).ok).toBe(true);
    answer = "127.0.0.1";
    const out = await sendWebhook(new URL("http://hooks.example/h"), {}, "{}", { timeoutMs: 500, allowPrivate: false, resolve });
    expect(out.status).toBeNull();
    expect(out.error).toMatch(/refused: hooks\.example resolves to a non-public address \(/);
    // The delivery log (tenant-visible) does not repeat the answer: no map of internal DNS names.
    expect(out.error).not.toContain("127.0.0.1");
    // A name with one public and one private record is refused too.
    const mixed = async () => [
      { address: "93.184.216.34", family: 4 as const },
      { address: "10.0.0.5", family: 4 as const },
    ];
    expect((await resolvePublic("mixed.example", false, mixed)).ok).toBe(false);
  });
});
