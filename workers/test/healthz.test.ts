import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { probeWrongMethods } from "../../shared/src/method-probe.ts";
import { app } from "../src/app.ts";
import { publish } from "./fixtures.ts";

describe("edge basics", () => {
  it("answers /healthz with 200", async () => {
    const res = await exports.default.fetch("http://edge/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("answers an unknown route with a problem+json 404", async () => {
    const res = await exports.default.fetch("http://edge/v1/nope");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    const body = await res.json<{ type: string; status: number }>();
    expect(body).toMatchObject({ type: "urn:kakunin:problem:not-found", status: 404 });
  });

  it("answers a served path under a method it does not serve with 405 and Allow, never 404", async () => {
    expect(app.routes.filter((r) => r.method !== "ALL").length).toBeGreaterThan(15);
    expect(await probeWrongMethods(app.routes, (r) => exports.default.fetch(r), "http://edge")).toEqual([]);
    const head = await exports.default.fetch("http://edge/v1/events", { method: "HEAD" });
    expect([head.status, head.headers.get("allow")]).toEqual([405, "POST"]);
    const put = await exports.default.fetch("http://edge/v1/verify/abcd", { method: "PUT" });
    expect(put.headers.get("allow")).toBe("GET, HEAD");
    expect(await put.json()).toMatchObject({ type: "urn:kakunin:problem:method-not-allowed", status: 405 });
  });
});

/**
 * The edge's answers carry the same base headers as the origin's: `x-content-type-options: nosniff`
 * and `cache-control: no-store` unless the route chose its own caching, and an `x-request-id` that
 * echoes a sane caller id (same rules as the origin: a token, else a traceparent's trace id, else a
 * fresh UUID), problem answers included. /healthz had neither, and no edge answer had an id.
 */
describe("edge base headers", () => {
  afterEach(async () => {
    await reset();
  });
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  it("/healthz is never cached, not sniffed, and echoes the caller's request id", async () => {
    const res = await exports.default.fetch("http://edge/healthz", { headers: { "x-request-id": "abc-123" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-request-id")).toBe("abc-123");
  });

  it("invents an id when none or an unusable one is given, and takes a traceparent's trace id", async () => {
    const none = await exports.default.fetch("http://edge/healthz");
    expect(none.headers.get("x-request-id")).toMatch(UUID);
    const hostile = await exports.default.fetch("http://edge/healthz", { headers: { "x-request-id": 'bad"id {with} spaces' } });
    expect(hostile.headers.get("x-request-id")).toMatch(UUID);
    const traced = await exports.default.fetch("http://edge/healthz", {
      headers: { traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
    });
    expect(traced.headers.get("x-request-id")).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
  });

  it("problem answers (404, 405) carry the id and the base headers too", async () => {
    for (const [method, path, status] of [
      ["GET", "/v1/nope", 404],
      ["PUT", "/v1/verify/abcd", 405],
    ] as const) {
      const res = await exports.default.fetch(`http://edge${path}`, { method, headers: { "x-request-id": `req-${status}` } });
      expect(res.status).toBe(status);
      expect(res.headers.get("x-request-id")).toBe(`req-${status}`);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
  });

  it("a route's own caching is kept", async () => {
    const now = new Date().toISOString();
    await publish([{ kind: "crl", v: 5, tenant_id: "default", crl_b64: btoa("CRLDER"), this_update: now, next_update: now, chain_pem: "PEMCHAIN" }]);
    const res = await exports.default.fetch("http://edge/v1/crl");
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("public, max-age=60");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-request-id")).toMatch(UUID);
  });
});
