import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, expect, it } from "vitest";
import { enrolledAgent } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

const PAGE = "https://gateway-console.example";

const get = (path: string, headers: Record<string, string> = {}) =>
  exports.default.fetch(`http://edge${path}`, { headers: { origin: PAGE, accept: "application/json", ...headers } });
const preflight = (path: string, method: string, extra: Record<string, string> = {}) =>
  exports.default.fetch(`http://edge${path}`, { method: "OPTIONS", headers: { origin: PAGE, "access-control-request-method": method, ...extra } });

/**
 * The edge's public answers (verify, CA chain, CRL, OCSP, DID documents) are meant for anyone, and
 * @kakunin/verify says it runs in browsers. A browser lets a page on another origin read an answer
 * only when it carries Access-Control-Allow-Origin: without it, the SDK's verify() from a web page
 * failed ("TypeError: Failed to fetch" in chromium against `pnpm start`) and fell to
 * edge_unavailable, whatever the certificate's status. Public, credential-less routes now say `*`;
 * routes that take a credential (ingest, risk, admin, internal) say nothing, so no page can use
 * them cross-origin.
 */
it("public answers, problems included, can be read by a page on any origin", async () => {
  const { cert } = await enrolledAgent();
  for (const path of [
    `/v1/verify/${cert.serial_number}`,
    `/v1/verify/${"4".repeat(32)}`,
    "/v1/verify/zz",
    `/v1/agents/${cert.agent_id}/did.json`,
    `/v1/did/did:kakunin:${cert.agent_id}`,
    "/v1/ca",
    "/v1/crl",
    "/openapi.json",
    "/healthz",
  ]) {
    const r = await get(path);
    expect({ path, acao: r.headers.get("access-control-allow-origin") }).toEqual({ path, acao: "*" });
    // What the SDK reads beyond the CORS-safelisted headers (Age for freshness; ETag to revalidate; the request id to quote).
    const exposed = (r.headers.get("access-control-expose-headers") ?? "").split(/,\s*/);
    for (const h of ["age", "etag", "retry-after", "x-request-id"]) expect({ path, h, exposed: exposed.includes(h) }).toEqual({ path, h, exposed: true });
    expect(r.headers.get("access-control-allow-credentials")).toBeNull();
  }
});

it("a CORS preflight of a public route is answered 204; a plain OPTIONS is still 405", async () => {
  const { cert } = await enrolledAgent();
  const path = `/v1/verify/${cert.serial_number}`;
  const pre = await preflight(path, "GET", { "access-control-request-headers": "accept, if-none-match" });
  expect(pre.status).toBe(204);
  expect(pre.headers.get("access-control-allow-origin")).toBe("*");
  expect(pre.headers.get("access-control-allow-methods")).toBe("GET, HEAD");
  expect(pre.headers.get("access-control-allow-headers")).toBe("*");
  expect(Number(pre.headers.get("access-control-max-age"))).toBeGreaterThan(0);
  const ocsp = await preflight("/v1/ocsp", "POST", { "access-control-request-headers": "content-type" });
  expect(ocsp.status).toBe(204);
  expect(ocsp.headers.get("access-control-allow-methods")).toBe("GET, HEAD, POST");
  const plain = await exports.default.fetch(`http://edge${path}`, { method: "OPTIONS" });
  expect(plain.status).toBe(405);
  expect(plain.headers.get("content-type")).toMatch(/^application\/problem\+json/);
});

it("routes that take a credential carry no CORS headers and refuse preflights", async () => {
  const { cert, token } = await enrolledAgent();
  const risk = await get(`/v1/agents/${cert.agent_id}/risk`, { authorization: `Bearer ${token}` });
  expect(risk.status).toBe(200);
  expect(risk.headers.get("access-control-allow-origin")).toBeNull();
  for (const [path, method] of [
    ["/v1/events", "POST"],
    [`/v1/agents/${cert.agent_id}/risk`, "GET"],
    ["/internal/v1/publish", "POST"],
    ["/v1/admin/metrics", "GET"],
  ] as const) {
    const pre = await preflight(path, method, { "access-control-request-headers": "authorization" });
    expect({ path, status: pre.status, acao: pre.headers.get("access-control-allow-origin") }).toEqual({ path, status: 405, acao: null });
  }
});
