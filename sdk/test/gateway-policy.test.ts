import express from "express";
import { Hono } from "hono";
import { request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { webcrypto } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { kakunin as expressKakunin } from "../src/express.ts";
import { kakunin as honoKakunin, type KakuninEnv } from "../src/hono.ts";
import { createVerifier, cryptoKeySigner, signRequest, type FetchLike, type Verifier } from "../src/index.ts";
import type { MiddlewareOptions } from "../src/middleware-options.ts";
import { inspectSignature, signatureMatches } from "../src/possession.ts";
import { closedPort } from "./support.ts";

/**
 * Gateway policy against edge answers the SDK did not expect, with a stubbed edge (no system
 * behind it): unknown reason codes, a non-active status without reasons, a missing risk score,
 * another tenant's agent, bad risk limits, and request paths with dot segments.
 */
const SERIAL = "4d2f0c9a1b3e5f7081928374a5b6c7d8";
const TENANT = "11111111-1111-4111-8111-111111111111";

// For the dot-segment tests the edge is a closed port: a request past the signature inspection answers 503.
const keys = (await webcrypto.subtle.generateKey(
  { name: "RSASSA-PKCS1-v1_5", modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  true,
  ["sign", "verify"],
)) as CryptoKeyPair;
const signer = cryptoKeySigner(keys.privateKey);
const edgeUrl = `http://127.0.0.1:${await closedPort()}`;

function answer(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    serial_number: SERIAL,
    status: "active",
    valid: true,
    reasons: [],
    agent_id: "a",
    agent_urn: "urn:kakunin:agent:a",
    tenant_id: TENANT,
    model: { name: "m", version: "1", hash: `sha256:${"ab".repeat(32)}` },
    scopes: ["*"],
    not_before: "2020-01-01T00:00:00Z",
    not_after: "2999-01-01T00:00:00Z",
    revoked_at: null,
    revocation_reason: null,
    risk: { score: 0.5, band: "medium" },
    checked_at: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

function stubEdge(data: Record<string, unknown>): Verifier {
  const fetch: FetchLike = async () => Response.json({ data });
  return createVerifier({ edgeUrl: "http://edge.test", fetch, includeCertificate: false });
}

type Options = Omit<MiddlewareOptions<unknown>, "verifier" | "scope" | "modelHash" | "maxBand" | "maxRisk"> & {
  maxBand?: unknown;
  maxRisk?: unknown;
  tenant?: string | readonly string[];
};

function hono(verifier: Verifier, extra: Options = {}): Hono<KakuninEnv> {
  const app = new Hono<KakuninEnv>();
  // Bad values on purpose: what a gateway reading its limits from config or env could pass.
  app.use("*", honoKakunin({ verifier, proofOfPossession: false, ...(extra as object) }));
  app.all("*", (c) => c.text("ok"));
  return app;
}

const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

/** Listening first: the authority the gateway answers for includes the port it got. */
async function expressApp(install: (app: express.Express, host: string) => void): Promise<string> {
  const app = express();
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s));
  });
  servers.push(server);
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  install(app, host);
  app.use((_req, res) => {
    res.type("text/plain").send("ok");
  });
  return host;
}

/** A raw HTTP request: fetch() would normalise the path before it left, hiding what is tested. */
function rawRequest(
  host: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; type: string; body: string }> {
  const [hostname, port] = host.split(":");
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port: Number(port), method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"] ?? ""), body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.end(body);
  });
}

function headersOf(req: Request): Record<string, string> {
  const out: Record<string, string> = {};
  req.headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

const problemOf = async (res: Response) => ({
  status: res.status,
  contentType: res.headers.get("content-type"),
  ...((await res.json()) as { type: string; detail: string; reasons?: { code: string }[] }),
});
const get = (app: Hono<KakuninEnv>) => app.request("http://gateway.test/api/orders", { headers: { "kakunin-agent-serial": SERIAL } });

describe("an edge reason code the SDK does not know", () => {
  const unknown = answer({ valid: false, reasons: [{ code: "agent_review_required", detail: "the agent is under review" }] });

  it("Hono answers 403 certificate-not-valid (problem+json), not 500", async () => {
    const p = await problemOf(await get(hono(stubEdge(unknown))));
    expect(p).toMatchObject({ status: 403, contentType: "application/problem+json", type: "urn:kakunin:problem:certificate-not-valid" });
    expect(p.reasons?.map((r) => r.code)).toEqual(["agent_review_required"]);
  });

  it("Express answers 403 certificate-not-valid (problem+json), not a 500 with a stack", async () => {
    const host = await expressApp((app) => app.use("/api", expressKakunin({ verifier: stubEdge(unknown), proofOfPossession: false })));
    const r = await rawRequest(host, "GET", "/api/orders", { "kakunin-agent-serial": SERIAL });
    expect(r).toMatchObject({ status: 403, type: expect.stringMatching(/^application\/problem\+json/) });
    expect(JSON.parse(r.body)).toMatchObject({ type: "urn:kakunin:problem:certificate-not-valid" });
  });

  it("a reason code named like an Object.prototype member is unknown too", async () => {
    const p = await problemOf(await get(hono(stubEdge(answer({ valid: false, reasons: [{ code: "toString", detail: "x" }] })))));
    expect(p).toMatchObject({ status: 403, type: "urn:kakunin:problem:certificate-not-valid" });
  });
});

describe("a status other than active is never let through", () => {
  it("status revoked with an empty reasons list is refused (403 certificate-revoked)", async () => {
    const data = answer({ status: "revoked", valid: false, reasons: [], revoked_at: "2026-01-01T00:00:00Z" });
    const p = await problemOf(await get(hono(stubEdge(data))));
    expect(p).toMatchObject({ status: 403, type: "urn:kakunin:problem:certificate-revoked" });
    const r = await stubEdge(data).verify(SERIAL);
    expect(r).toMatchObject({ kind: "checked", valid: false });
    expect(r.reasons.map((x) => x.code)).toEqual(["revoked"]);
  });
});

describe("risk ceilings fail closed", () => {
  it("a bad static maxBand or maxRisk is refused when the middleware is built", () => {
    const verifier = stubEdge(answer());
    for (const bad of [{ maxBand: "LOW" }, { maxBand: "Low" }, { maxRisk: Number.NaN }, { maxRisk: -0.1 }, { maxRisk: 2 }, { maxRisk: "0.5" }]) {
      expect(() => hono(verifier, bad), JSON.stringify(bad)).toThrow(/maxBand|maxRisk/);
      expect(() => expressKakunin({ verifier, proofOfPossession: false, ...(bad as object) }), JSON.stringify(bad)).toThrow(/maxBand|maxRisk/);
    }
  });

  it("a bad per-request value is a 500 problem, never a pass", async () => {
    const verifier = stubEdge(answer());
    for (const bad of ["LOW", "Low"]) {
      const p = await problemOf(await get(hono(verifier, { maxBand: () => bad })));
      expect(p).toMatchObject({ status: 500, contentType: "application/problem+json", type: "urn:kakunin:problem:internal-error" });
      expect(p.detail).toContain("maxBand");
    }
    const p = await problemOf(await get(hono(verifier, { maxRisk: async () => Number.NaN })));
    expect(p).toMatchObject({ status: 500, type: "urn:kakunin:problem:internal-error" });
    const host = await expressApp((app) =>
      app.use("/api", expressKakunin({ verifier, proofOfPossession: false, maxBand: (() => "LOW") as unknown as () => "low" })),
    );
    const r = await rawRequest(host, "GET", "/api/orders", { "kakunin-agent-serial": SERIAL });
    expect(r).toMatchObject({ status: 500, type: expect.stringMatching(/^application\/problem\+json/) });
  });

  it("valid limits still work per request: a medium agent passes maxBand medium, not low", async () => {
    const verifier = stubEdge(answer());
    expect((await get(hono(verifier, { maxBand: "medium" }))).status).toBe(200);
    expect(await problemOf(await get(hono(verifier, { maxBand: () => "low" })))).toMatchObject({ status: 403, type: "urn:kakunin:problem:risk-too-high" });
  });

  it("an edge answer without risk is refused when a ceiling is set, and passes without one", async () => {
    const { risk: _omitted, ...noRisk } = answer();
    const verifier = stubEdge(noRisk);
    for (const ceiling of [{ maxBand: "medium" }, { maxRisk: 0.9 }]) {
      const p = await problemOf(await get(hono(verifier, ceiling)));
      expect(p).toMatchObject({ status: 403, type: "urn:kakunin:problem:risk-too-high" });
      expect(p.detail).toContain("no risk");
    }
    expect((await get(hono(verifier))).status).toBe(200);
  });

  it("the verifier itself fails closed on a bad ceiling (verify() never throws)", async () => {
    const r = await stubEdge(answer()).verify(SERIAL, { maxBand: "LOW" as "low" });
    expect(r).toMatchObject({ kind: "checked", valid: false });
    expect(r.reasons.map((x) => x.code)).toEqual(["risk_too_high"]);
  });
});

describe("tenant: a gateway accepts its own tenant's agents only", () => {
  const other = answer({ tenant_id: "22222222-2222-4222-8222-222222222222" });

  it("Hono refuses an agent of another tenant with 403 tenant-not-allowed, and accepts its own", async () => {
    const p = await problemOf(await get(hono(stubEdge(other), { tenant: TENANT })));
    expect(p).toMatchObject({ status: 403, type: "urn:kakunin:problem:tenant-not-allowed" });
    expect(p.reasons?.map((r) => r.code)).toEqual(["tenant_not_allowed"]);
    expect((await get(hono(stubEdge(answer()), { tenant: TENANT }))).status).toBe(200);
    expect((await get(hono(stubEdge(other), { tenant: [TENANT, "22222222-2222-4222-8222-222222222222"] }))).status).toBe(200);
  });

  it("Express refuses it too", async () => {
    const host = await expressApp((app) => app.use("/api", expressKakunin({ verifier: stubEdge(other), proofOfPossession: false, tenant: TENANT })));
    const r = await rawRequest(host, "GET", "/api/orders", { "kakunin-agent-serial": SERIAL });
    expect(r).toMatchObject({ status: 403, type: expect.stringMatching(/^application\/problem\+json/) });
    expect(JSON.parse(r.body)).toMatchObject({ type: "urn:kakunin:problem:tenant-not-allowed" });
  });

  it("createVerifier's checks take it as well", async () => {
    const r = await stubEdge(other).verify(SERIAL, { tenant: TENANT });
    expect(r).toMatchObject({ kind: "checked", valid: false });
    expect(r.reasons.map((x) => x.code)).toEqual(["tenant_not_allowed"]);
    expect((await stubEdge(answer()).verify(SERIAL, { tenant: [TENANT] })).valid).toBe(true);
  });

  it("an empty tenant option is a configuration error, caught at startup", () => {
    expect(() => hono(stubEdge(answer()), { tenant: [] })).toThrow(/tenant/);
    expect(() => hono(stubEdge(answer()), { tenant: "" })).toThrow(/tenant/);
  });
});

describe("a signature for one path is not accepted on another (any target the URL parser rewrites)", () => {
  // Each variant parses (WHATWG URL, what @path is computed from) to the signed /api/orders/42, so the
  // signature verifies over it; Express routes the raw target, so it would reach another route.
  const variants = ["/api/orders\\42", "/api\\orders\\42", "//HOST/api/orders/42"];
  const target = (variant: string, host: string) => variant.replace("HOST", host);

  it.each(variants)("the signature covers the rewritten target %s (why it must be refused)", async (variant) => {
    const signed = await signRequest(new Request("http://gw.test/api/orders/42", { method: "POST", body: "{}" }), { serial: SERIAL, signer });
    const view = { method: "POST", url: new URL(target(variant, "gw.test"), "http://gw.test"), header: (n: string) => signed.headers.get(n) ?? undefined };
    const policy = { label: "sig1", authorities: new Set(["gw.test"]), maxSkewMs: 60_000, now: Date.now };
    const inspected = await inspectSignature(view, SERIAL, async () => ({ ok: true, bytes: new TextEncoder().encode("{}") }), policy);
    expect(inspected.ok && (await signatureMatches(keys.publicKey, inspected.sig))).toBe(true);
  });

  it.each(variants)("Express: %s", async (variant) => {
    let routed: string | undefined;
    const host = await expressApp((app, authority) => {
      app.use(expressKakunin({ authority, verifier: { edgeUrl, timeoutMs: 500 } }));
      app.post("/api/orders/:id", (_req, res) => void res.send("orders"));
    });
    const seen = await expressApp((app) => app.post(/.*/, (req, res) => void res.send((routed = req.path))));
    const signed = await signRequest(new Request(`http://${host}/api/orders/42`, { method: "POST", body: "{}" }), { serial: SERIAL, signer });
    expect((await rawRequest(host, "POST", "/api/orders/42", headersOf(signed), "{}")).status).toBe(503);
    // Express routes the raw target, not the path the signature covers.
    await rawRequest(seen, "POST", target(variant, host), {}, "{}");
    expect(routed).not.toBe("/api/orders/42");
    const signedAgain = await signRequest(new Request(`http://${host}/api/orders/42`, { method: "POST", body: "{}" }), { serial: SERIAL, signer });
    const r = await rawRequest(host, "POST", target(variant, host), headersOf(signedAgain), "{}");
    expect(r).toMatchObject({ status: 400, type: expect.stringMatching(/^application\/problem\+json/) });
    expect(JSON.parse(r.body)).toMatchObject({ type: "urn:kakunin:problem:path-not-canonical" });
  });

  it("Hono refuses a request URL its parser would rewrite (a server adapter that keeps it raw)", async () => {
    const app = new Hono<KakuninEnv>();
    app.use("*", honoKakunin({ authority: "gateway.test", verifier: { edgeUrl, timeoutMs: 500 } }));
    app.all("*", (c) => c.text("ok"));
    const signed = await signRequest(new Request("http://gateway.test/api/orders/42", { method: "POST", body: "{}" }), { serial: SERIAL, signer });
    const raw = new Request(signed, { body: "{}" });
    Object.defineProperty(raw, "url", { value: "http://gateway.test/api/orders\\42" });
    expect(await problemOf(await app.fetch(raw))).toMatchObject({ status: 400, type: "urn:kakunin:problem:path-not-canonical" });
  });

  it.each(["//[x/api/orders", "http://gw.test:99999/api/orders"])("Express: an unparsable target %s is a 400 problem, not a 500 with a stack", async (path) => {
    const host = await expressApp((app, authority) => app.use(expressKakunin({ authority, verifier: { edgeUrl, timeoutMs: 500 } })));
    const r = await rawRequest(host, "GET", path, { "kakunin-agent-serial": SERIAL });
    expect(r).toMatchObject({ status: 400, type: expect.stringMatching(/^application\/problem\+json/) });
    expect(JSON.parse(r.body)).toMatchObject({ type: "urn:kakunin:problem:path-not-canonical" });
  });

  it("a normalised target passes, with or without a query", async () => {
    const host = await expressApp((app, authority) => app.use(expressKakunin({ authority, verifier: { edgeUrl, timeoutMs: 500 } })));
    for (const path of ["/api/orders/42", "/api/orders/42?x=1&y=%20z", "/api/%C3%A9"]) {
      const signed = await signRequest(new Request(`http://${host}${path}`, { method: "POST", body: "{}" }), { serial: SERIAL, signer });
      expect((await rawRequest(host, "POST", path, headersOf(signed), "{}")).status).toBe(503);
    }
  });
});

describe("a signature for one path is not accepted on another (dot segments)", () => {
  const variants = ["/api/x/../orders", "/api/x/%2e%2e/orders", "/api/x/%2E%2e/orders", "/api/./orders", "/api/%2E/orders", "/api/x/.%2E/orders"];

  it.each(variants)("Express: %s", async (path) => {
    const host = await expressApp((app, authority) => app.use(expressKakunin({ authority, verifier: { edgeUrl, timeoutMs: 500 } })));
    const signed = await signRequest(new Request(`http://${host}/api/orders`, { method: "POST", body: "{}" }), { serial: SERIAL, signer });
    const headers = headersOf(signed);
    const ok = await rawRequest(host, "POST", "/api/orders", headers, "{}");
    expect(ok.status).toBe(503);
    const signedAgain = await signRequest(new Request(`http://${host}/api/orders`, { method: "POST", body: "{}" }), { serial: SERIAL, signer });
    const r = await rawRequest(host, "POST", path, headersOf(signedAgain), "{}");
    expect(r).toMatchObject({ status: 400, type: expect.stringMatching(/^application\/problem\+json/) });
    expect(JSON.parse(r.body)).toMatchObject({ type: "urn:kakunin:problem:path-not-canonical" });
  });

  it("Hono refuses a request URL with dot segments too (a server adapter that keeps them)", async () => {
    const app = new Hono<KakuninEnv>();
    app.use("*", honoKakunin({ authority: "gateway.test", verifier: { edgeUrl, timeoutMs: 500 } }));
    app.all("*", (c) => c.text("ok"));
    // A Context whose URL string was not normalised, as a hand-built or proxied request can carry.
    const signed = await signRequest(new Request("http://gateway.test/api/orders", { method: "POST", body: "{}" }), { serial: SERIAL, signer });
    const raw = new Request(signed, { body: "{}" });
    Object.defineProperty(raw, "url", { value: "http://gateway.test/api/x/%2e%2e/orders" });
    const p = await problemOf(await app.fetch(raw));
    expect(p).toMatchObject({ status: 400, type: "urn:kakunin:problem:path-not-canonical" });
  });
});
