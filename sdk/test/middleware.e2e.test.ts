import { createHash, webcrypto } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Hono } from "hono";
import { kakunin, type KakuninEnv } from "../src/hono.ts";
import { createVerifier, cryptoKeySigner, memoryReplayStore, originSigner, signRequest, type FetchLike, type Signer } from "../src/index.ts";
import { expressGateway, honoGateway, type GatewayUnderTest } from "./gateway-apps.ts";
import { closedPort, TestSystem, type Agent } from "./support.ts";

/** One real system for the file; the same refusal table runs against Hono and Express. */
const t = new TestSystem();
let alice: Agent;
let bob: Agent;
let revoked: Agent;
const gateways: Record<string, GatewayUnderTest> = {};
/** Requests signed by `revoked` while its certificate was still active, one per gateway. */
const signedBeforeRevocation: Record<string, Request> = {};

const signerFor = (agent: Agent): Signer => originSigner({ originUrl: t.originUrl, credential: agent.credential, agentId: agent.id });

interface SendOptions {
  method?: string;
  body?: string;
  agent?: Agent;
  serial?: string;
  signer?: Signer;
  created?: Date;
}

async function signed(gw: GatewayUnderTest, path: string, o: SendOptions = {}): Promise<Request> {
  const agent = o.agent ?? alice;
  const req = new Request(`${gw.base}${path}`, {
    method: o.method ?? (o.body === undefined ? "GET" : "POST"),
    headers: o.body === undefined ? {} : { "content-type": "application/json" },
    body: o.body,
  });
  return signRequest(req, { serial: o.serial ?? agent.serial, signer: o.signer ?? signerFor(agent), ...(o.created && { created: o.created }) });
}

/** A copy of a signed request with one thing changed and every signature header kept. */
async function tamper(req: Request, change: { url?: string; method?: string; body?: string; headers?: Record<string, string> }): Promise<Request> {
  const headers = new Headers(req.headers);
  for (const [k, v] of Object.entries(change.headers ?? {})) headers.set(k, v);
  const method = change.method ?? req.method;
  const body = change.body ?? (method === "GET" ? undefined : await req.clone().text());
  return new Request(change.url ?? req.url, { method, headers, body });
}

async function expectProblem(res: Response, status: number, name: string): Promise<Record<string, unknown>> {
  const body = (await res.json()) as Record<string, unknown>;
  expect({ status: res.status, type: body.type }, JSON.stringify(body)).toEqual({ status, type: `urn:kakunin:problem:${name}` });
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(body).toMatchObject({ status, title: expect.any(String), detail: expect.any(String) });
  return body;
}

beforeAll(async () => {
  await t.start();
  [alice, bob, revoked] = await Promise.all([t.certifiedAgent(), t.certifiedAgent(), t.certifiedAgent()]);
  const closedEdgeUrl = `http://127.0.0.1:${await closedPort()}`;
  // A short TTL so the revocation below is seen without waiting the default 2 s.
  const verifier = createVerifier({ edgeUrl: t.edgeUrl, cacheTtlMs: 200 });
  gateways.hono = honoGateway({ verifier, closedEdgeUrl });
  gateways.express = await expressGateway({ verifier, closedEdgeUrl });
  for (const gw of Object.values(gateways)) signedBeforeRevocation[gw.name] = await signed(gw, "/api/orders", { agent: revoked, body: "{}" });
  await t.revoke(revoked);
  await new Promise((r) => setTimeout(r, 250));
}, 180_000);

afterAll(async () => {
  await Promise.all(Object.values(gateways).map((g) => g.close()));
  await t.stop();
});

describe.each(["hono", "express"])("%s middleware", (name) => {
  const gw = () => {
    const g = gateways[name];
    if (!g) throw new Error(`${name} gateway not started`);
    return g;
  };
  const send = async (req: Request | Promise<Request>) => gw().send(await req);

  it("a request signed through the origin (key in the KMS) passes; the handler gets the agent and can still read the body", async () => {
    const res = await send(signed(gw(), "/api/orders", { body: '{"qty":5,"sku":"A-1"}' }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ serial: alice.serial, agent_id: alice.id, possession: "verified", degraded: false, body: { qty: 5, sku: "A-1" } });
    const get = await send(signed(gw(), "/api/customers/42"));
    expect(get.status).toBe(200);
    expect(await get.json()).toMatchObject({ serial: alice.serial, possession: "verified" });
  });

  it("a request signed by hand (RFC 9421 base written out, signed by the origin's sign route) passes", async () => {
    const body = '{"qty":1}';
    const date = new Date();
    const digest = `sha-256=:${createHash("sha256").update(body).digest("base64")}:`;
    const params = `("@method" "@authority" "@path" "date" "content-digest" "kakunin-agent-serial");created=${Math.floor(date.getTime() / 1000)};keyid="${alice.serial}";alg="rsa-v1_5-sha256";nonce="hand-${crypto.randomUUID()}"`;
    const base = `"@method": POST\n"@authority": ${new URL(gw().base).host}\n"@path": /api/orders\n"date": ${date.toUTCString()}\n"content-digest": ${digest}\n"kakunin-agent-serial": ${alice.serial}\n"@signature-params": ${params}`;
    const sig = await t.api("POST", `/v1/agents/${alice.id}/sign`, { payload_b64: Buffer.from(base).toString("base64"), algorithm: "RSASSA_PKCS1_V1_5_SHA_256" });
    expect(sig.status).toBe(200);
    const res = await send(new Request(`${gw().base}/api/orders`, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json", date: date.toUTCString(), "content-digest": digest, "kakunin-agent-serial": alice.serial,
        "signature-input": `sig1=${params}`, signature: `sig1=:${String(sig.body.data.signature_b64)}:`,
      },
    }));
    expect(res.status).toBe(200);
  });

  it("401 without Kakunin-Agent-Serial, with a malformed one, and with no signature", async () => {
    await expectProblem(await send(new Request(`${gw().base}/api/orders`)), 401, "agent-serial-missing");
    await expectProblem(await send(new Request(`${gw().base}/api/orders`, { headers: { "kakunin-agent-serial": "not-a-serial" } })), 401, "agent-serial-invalid");
    await expectProblem(await send(new Request(`${gw().base}/api/orders`, { headers: { "kakunin-agent-serial": alice.serial } })), 401, "signature-missing");
  });

  it("401 for an unknown serial, even correctly signed", async () => {
    const keys = (await webcrypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
    const body = await expectProblem(await send(signed(gw(), "/api/orders", { body: "{}", serial: "4" + "e".repeat(31), signer: cryptoKeySigner(keys.privateKey) })), 401, "unknown-agent");
    expect(body.serial_number).toBe("4" + "e".repeat(31));
  });

  it("403 for a revoked certificate", async () => {
    const req = signedBeforeRevocation[name];
    if (!req) throw new Error("no pre-signed request");
    const body = await expectProblem(await send(req), 403, "certificate-revoked");
    expect(body.reasons).toEqual([expect.objectContaining({ code: "revoked" })]);
  });

  it("403 when the agent's scopes do not cover the route, or the model hash differs", async () => {
    const body = await expectProblem(await send(signed(gw(), "/api/payments", { body: "{}" })), 403, "scope-not-granted");
    expect(body).toMatchObject({ serial_number: alice.serial, reasons: [{ code: "scope_not_granted" }] });
    // orders.* covers orders.cancel: the same agent is allowed there.
    expect((await send(signed(gw(), "/api/orders/cancel", { body: "{}" }))).status).toBe(200);
    await expectProblem(await send(signed(gw(), "/model/anything")), 403, "model-hash-mismatch");
  });

  it("401 for the exact same signed request sent twice", async () => {
    const req = await signed(gw(), "/api/orders", { body: '{"qty":1}' });
    expect((await send(req.clone())).status).toBe(200);
    await expectProblem(await send(req), 401, "signature-replayed");
  });

  it("401 when the body, path, method, query or serial header was changed after signing", async () => {
    const req = await signed(gw(), "/api/orders", { body: '{"qty":1}' });
    await expectProblem(await send(tamper(req, { body: '{"qty":1000}' })), 401, "digest-mismatch");
    // A matching digest for the new body does not help: the digest itself is signed.
    const digest = `sha-256=:${createHash("sha256").update('{"qty":1000}').digest("base64")}:`;
    await expectProblem(await send(tamper(req, { body: '{"qty":1000}', headers: { "content-digest": digest } })), 401, "signature-invalid");
    await expectProblem(await send(tamper(req, { url: `${gw().base}/api/orders/cancel` })), 401, "signature-invalid");
    await expectProblem(await send(tamper(req, { method: "PUT" })), 401, "signature-invalid");
    await expectProblem(await send(tamper(req, { url: `${gw().base}/api/orders?qty=1000` })), 401, "signature-invalid");
    const q = await signed(gw(), "/api/customers/42?fields=name");
    await expectProblem(await send(tamper(q, { url: `${gw().base}/api/customers/42?fields=ssn` })), 401, "signature-invalid");
    await expectProblem(await send(tamper(req, { headers: { "kakunin-agent-serial": bob.serial } })), 401, "signature-invalid");
    // Untouched, the same request still passes: the refusals above were about the changes.
    expect((await send(req)).status).toBe(200);
  });

  it("401 for a signature made more than the skew window ago or ahead", async () => {
    await expectProblem(await send(signed(gw(), "/api/orders", { body: "{}", created: new Date(Date.now() - 5 * 60_000) })), 401, "signature-stale");
    await expectProblem(await send(signed(gw(), "/api/orders", { body: "{}", created: new Date(Date.now() + 5 * 60_000) })), 401, "signature-stale");
  });

  it("401 for a signature by a key other than the certificate's", async () => {
    const keys = (await webcrypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
    await expectProblem(await send(signed(gw(), "/api/orders", { body: "{}", signer: cryptoKeySigner(keys.privateKey) })), 401, "signature-invalid");
    // Bob's real key, Alice's serial: also not Alice.
    const bobSigner: Signer = { sign: (data) => signerFor(bob).sign(data, { serial: bob.serial }) };
    await expectProblem(await send(signed(gw(), "/api/orders", { body: "{}", signer: bobSigner })), 401, "signature-invalid");
  });

  it("503 when the edge is unreachable (fail closed); fail-open lets it through as degraded", async () => {
    await expectProblem(await send(signed(gw(), "/closed/x")), 503, "edge-unavailable");
    const open = await send(signed(gw(), "/open/x"));
    expect(open.status).toBe(200);
    expect(await open.json()).toMatchObject({ serial: alice.serial, degraded: true, possession: "unchecked" });
  });

  it("without proof of possession the serial alone is checked", async () => {
    const res = await send(new Request(`${gw().base}/nopop/x`, { headers: { "kakunin-agent-serial": alice.serial.toUpperCase() } }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ serial: alice.serial, possession: "not_required", degraded: false });
    await expectProblem(await send(new Request(`${gw().base}/nopop/x`, { headers: { "kakunin-agent-serial": revoked.serial } })), 403, "certificate-revoked");
  });
});

describe("failing open while the edge is down", () => {
  it("a key imported while the edge was up still checks signatures; without one possession is unchecked", async () => {
    const closed = `http://127.0.0.1:${await closedPort()}`;
    let edgeUp = true;
    // The real edge until it "goes down", then a port nobody listens on.
    const switchable: FetchLike = (req) => fetch(edgeUp ? req : new Request(req.url.replace(t.edgeUrl, closed), req));
    const app = new Hono<KakuninEnv>()
      .use("*", kakunin({ authority: "gateway.test", verifier: { edgeUrl: t.edgeUrl, fetch: switchable, failClosed: false, cacheTtlMs: 1 } }))
      .all("*", (c) => c.json({ degraded: c.get("kakuninAgent").degraded, possession: c.get("kakuninAgent").possession }));
    const base = "http://gateway.test";
    const sign = (agent: Agent, signer?: Signer) => signRequest(new Request(`${base}/x`), { serial: agent.serial, signer: signer ?? signerFor(agent) });
    expect(await (await app.request(await sign(alice))).json()).toEqual({ degraded: false, possession: "verified" });
    edgeUp = false;
    await new Promise((r) => setTimeout(r, 5));
    expect(await (await app.request(await sign(alice))).json()).toEqual({ degraded: true, possession: "verified" });
    const keys = (await webcrypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" }, false, ["sign", "verify"])) as CryptoKeyPair;
    await expectProblem(await app.request(await sign(alice, cryptoKeySigner(keys.privateKey))), 401, "signature-invalid");
    expect(await (await app.request(await sign(bob))).json()).toEqual({ degraded: true, possession: "unchecked" });
  });
});

describe("express body handling", () => {
  const gw = () => gateways.express!;

  it("after express.json({ verify: keepRawBody }) the digest is checked over the raw bytes", async () => {
    const ok = await gw().send(await signed(gw(), "/parsed/orders", { body: '{"qty": 2}' }));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ body: { qty: 2 }, possession: "verified" });
    const req = await signed(gw(), "/parsed/orders", { body: '{"qty": 2}' });
    await expectProblem(await gw().send(await tamper(req, { body: '{"qty":2}' })), 401, "digest-mismatch");
  });

  it("after a parser that dropped the raw bytes it refuses (500) rather than guess", async () => {
    const body = await expectProblem(await gw().send(await signed(gw(), "/misparsed/orders", { body: "{}" })), 500, "internal-error");
    expect(body.detail).toMatch(/keepRawBody/);
  });
});

describe("the replay store cannot be flushed", () => {
  /**
   * A gateway whose store holds 3 signatures. Before, every signature that verified was recorded
   * before the certificate's status and scopes were checked, and a full store evicted its oldest
   * live entry: any certificate holder (bob below, here refused for scope on every request) could
   * push an accepted request out of the store and replay it within its skew window.
   */
  function smallStoreGateway(store = { maxEntries: 3, maxPerSerial: 3 }): { send(req: Request): Promise<Response>; base: string } {
    const app = new Hono<KakuninEnv>();
    const verifier = createVerifier({ edgeUrl: t.edgeUrl });
    app.use("*", kakunin({ authority: "small.test", verifier, replayStore: memoryReplayStore(store), scope: (c) => (c.req.path === "/pay" ? "payments.send" : "orders.place") }));
    app.all("*", (c) => c.text("ok"));
    return { base: "http://small.test", send: async (req) => app.request(req) };
  }
  const sign = (base: string, path: string, agent: Agent) =>
    signRequest(new Request(`${base}${path}`, { method: "POST", body: "{}" }), { serial: agent.serial, signer: signerFor(agent) });

  it("refused requests are not recorded: a flood of them does not evict an accepted signature", async () => {
    const gw = smallStoreGateway();
    const accepted = await sign(gw.base, "/orders", alice);
    expect((await gw.send(accepted.clone())).status).toBe(200);
    for (let i = 0; i < 5; i++) await expectProblem(await gw.send(await sign(gw.base, "/pay", bob)), 403, "scope-not-granted");
    await expectProblem(await gw.send(accepted), 401, "signature-replayed");
  });

  it("a store full of live signatures refuses new ones (503) rather than forget one", async () => {
    const gw = smallStoreGateway();
    const accepted = await sign(gw.base, "/orders", alice);
    expect((await gw.send(accepted.clone())).status).toBe(200);
    for (let i = 0; i < 2; i++) expect((await gw.send(await sign(gw.base, "/orders", bob))).status).toBe(200);
    const full = await gw.send(await sign(gw.base, "/orders", bob));
    // A key lives until created + skew, and created may lie one skew (60 s) ahead.
    expect(full.headers.get("retry-after")).toBe("120");
    await expectProblem(full, 503, "replay-store-full");
    await expectProblem(await gw.send(accepted), 401, "signature-replayed");
  });

  it("one agent flooding the gateway fills only its own share: the others are still served", async () => {
    const gw = smallStoreGateway({ maxEntries: 4, maxPerSerial: 2 });
    for (let i = 0; i < 2; i++) expect((await gw.send(await sign(gw.base, "/orders", bob))).status).toBe(200);
    await expectProblem(await gw.send(await sign(gw.base, "/orders", bob)), 503, "replay-store-full");
    expect((await gw.send(await sign(gw.base, "/orders", alice))).status).toBe(200);
  });
});
