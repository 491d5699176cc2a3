import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { createVerifier, cryptoKeySigner, signRequest, type FetchLike } from "@kakunin/verify";
import { kakunin, type KakuninEnv } from "@kakunin/verify/hono";
import { Hono } from "hono";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DEFAULT_TTL_MS } from "../src/verify/status-cache.ts";
import { certRec, publish } from "./fixtures.ts";

/**
 * The gateway SDK running inside workerd, calling this Worker's own /v1/verify. The certificate is a
 * minimal DER structure around a key generated here: the SDK reads only its serial and public key
 * (trust in the certificate comes from the edge that serves it, not from a chain check).
 */

function der(tag: number, ...parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const head = len < 0x80 ? [tag, len] : len < 0x100 ? [tag, 0x81, len] : [tag, 0x82, len >> 8, len & 0xff];
  const out = new Uint8Array(head.length + len);
  out.set(head);
  let at = head.length;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
const bytes = (...b: number[]) => new Uint8Array(b);
const hexBytes = (hex: string) => new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
const SHA256_RSA = der(0x30, der(0x06, bytes(0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b)), der(0x05));
const utc = (s: string) => der(0x17, new TextEncoder().encode(s));

function certificatePem(serial: string, spki: Uint8Array): string {
  const tbs = der(0x30, der(0xa0, der(0x02, bytes(2))), der(0x02, hexBytes(serial)), SHA256_RSA, der(0x30), der(0x30, utc("260101000000Z"), utc("270101000000Z")), der(0x30), spki);
  const cert = der(0x30, tbs, SHA256_RSA, der(0x03, bytes(0), new Uint8Array(256)));
  const b64 = btoa(String.fromCharCode(...cert));
  return `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join("\n")}\n-----END CERTIFICATE-----\n`;
}

async function agentKey(): Promise<{ keys: CryptoKeyPair; spki: Uint8Array }> {
  const keys = (await crypto.subtle.generateKey({ name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: bytes(1, 0, 1), hash: "SHA-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  return { keys, spki: new Uint8Array((await crypto.subtle.exportKey("spki", keys.publicKey)) as ArrayBuffer) };
}

const randomSerial = () => "4" + Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("").slice(1);
const self: FetchLike = (req) => exports.default.fetch(req);

describe("@kakunin/verify inside workerd against the Worker", () => {
  let serial: string;
  let keys: CryptoKeyPair;
  let requests: string[];
  let app: Hono<KakuninEnv>;
  const verifier = () => createVerifier({ edgeUrl: "http://edge", fetch: (req) => { requests.push(req.url); return self(req); } });

  beforeEach(async () => {
    const k = await agentKey();
    keys = k.keys;
    serial = randomSerial();
    await publish([certRec({ serial_number: serial, certificate_pem: certificatePem(serial, k.spki), scopes: ["orders.*"] })]);
    requests = [];
    app = new Hono<KakuninEnv>();
    app.use("/api/*", kakunin({ authority: "gateway", verifier: verifier(), scope: (c) => (c.req.path === "/api/payments" ? "payments.send" : "orders.place") }));
    app.post("/api/*", async (c) => c.json({ agent: c.get("kakuninAgent").data?.agent_id, possession: c.get("kakuninAgent").possession, body: await c.req.json() }));
  });
  afterEach(async () => {
    await reset();
  });

  const sign = (path: string, body: string, opts: { serial?: string; key?: CryptoKey } = {}) =>
    signRequest(new Request(`http://gateway${path}`, { method: "POST", headers: { "content-type": "application/json" }, body }), {
      serial: opts.serial ?? serial,
      signer: cryptoKeySigner(opts.key ?? keys.privateKey),
    });

  it("verifier: active → valid; 100 concurrent checks make one request to the Worker", async () => {
    const v = verifier();
    const results = await Promise.all(Array.from({ length: 100 }, () => v.verify(serial.toUpperCase(), { scope: "orders.place" })));
    expect(results.every((r) => r.valid && r.kind === "checked")).toBe(true);
    // The verifier asks for the PEM (proof of possession needs it; the edge leaves it out otherwise).
    expect(requests).toEqual([`http://edge/v1/verify/${serial}?include=certificate_pem`]);
    expect(await v.verify(serial, { scope: "payments.send" })).toMatchObject({ valid: false, cached: true, reasons: [{ code: "scope_not_granted" }] });
    expect(await v.verify("4" + "0".repeat(31))).toMatchObject({ kind: "unknown_serial", valid: false });
    expect(await v.verify("nope")).toMatchObject({ kind: "invalid_serial" });
    expect(requests).toHaveLength(2);
  });

  it("Hono middleware: a signed request passes and the handler reads the body", async () => {
    const res = await app.request(await sign("/api/orders", '{"qty":3}'));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ possession: "verified", body: { qty: 3 } });
  });

  it("Hono middleware refuses tampering, replays, foreign keys, unknown serials and missing scopes with problem+json", async () => {
    const problem = async (req: Request) => {
      const res = await app.request(req);
      expect(res.headers.get("content-type")).toBe("application/problem+json");
      return { status: res.status, type: ((await res.json()) as { type: string }).type };
    };
    const req = await sign("/api/orders", '{"qty":3}');
    const tampered = new Request(req.url, { method: "POST", headers: req.headers, body: '{"qty":300}' });
    expect(await problem(tampered)).toEqual({ status: 401, type: "urn:kakunin:problem:digest-mismatch" });
    expect((await app.request(req.clone())).status).toBe(200);
    expect(await problem(req)).toEqual({ status: 401, type: "urn:kakunin:problem:signature-replayed" });
    const other = await agentKey();
    expect(await problem(await sign("/api/orders", "{}", { key: other.keys.privateKey }))).toEqual({ status: 401, type: "urn:kakunin:problem:signature-invalid" });
    expect(await problem(await sign("/api/orders", "{}", { serial: "4" + "0".repeat(31) }))).toEqual({ status: 401, type: "urn:kakunin:problem:unknown-agent" });
    expect(await problem(await sign("/api/payments", "{}"))).toEqual({ status: 403, type: "urn:kakunin:problem:scope-not-granted" });
    expect(await problem(new Request("http://gateway/api/orders", { method: "POST", body: "{}" }))).toEqual({ status: 401, type: "urn:kakunin:problem:agent-serial-missing" });
  });

  it("Hono middleware: a revocation published to the Worker is refused with 403 once the cache turns over", async () => {
    const v = createVerifier({ edgeUrl: "http://edge", fetch: self, cacheTtlMs: 1 });
    const gate = new Hono<KakuninEnv>().use("*", kakunin({ authority: "gateway", verifier: v })).post("*", (c) => c.text("ok"));
    expect((await gate.request(await sign("/x", "{}"))).status).toBe(200);
    await publish([certRec({ serial_number: serial, status: "revoked", revoked_at: new Date().toISOString(), revocation_reason: "compliance hold", certificate_pem: "" })]);
    // The edge's own in-isolate cache may serve the old answer for up to its bound (status-cache.ts).
    await new Promise((r) => setTimeout(r, DEFAULT_TTL_MS + 5));
    const res = await gate.request(await sign("/x", "{}"));
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ type: "urn:kakunin:problem:certificate-revoked", reasons: [{ code: "revoked" }] });
  });

  it("a certificate whose serial is not the one asked about is not trusted to check signatures", async () => {
    const k = await agentKey();
    const liar = randomSerial();
    await publish([certRec({ serial_number: liar, certificate_pem: certificatePem(randomSerial(), k.spki), scopes: ["orders.*"] })]);
    const res = await app.request(await sign("/api/orders", "{}", { serial: liar, key: k.keys.privateKey }));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ type: "urn:kakunin:problem:signature-invalid", detail: expect.stringMatching(/certificate's serial/) });
  });
});
