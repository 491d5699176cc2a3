import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { checkOpenApiDocument, type Json, type JsonObject } from "../../shared/src/openapi-check.ts";
import { probeOpenApiOperations } from "../../shared/src/openapi-probe.ts";
import { probeWrongMethods } from "../../shared/src/method-probe.ts";
import { createApp } from "../src/app.ts";
import type { AppEnv } from "../src/app-env.ts";
import { startTestOrigin, type TestOrigin } from "./harness.ts";

// The CI check that the origin's OpenAPI document and its routing table agree, run against the
// real app (real services, PGlite) so a route added anywhere, by any module, is seen.

describe("origin OpenAPI document", () => {
  let o: TestOrigin;
  let app: OpenAPIHono<AppEnv>;
  let doc: JsonObject;
  const send = (r: Request) => Promise.resolve(app.request(r));
  const routes = () => app.routes.map((r) => ({ method: r.method, path: r.path }));

  beforeAll(async () => {
    o = await startTestOrigin("pglite");
    app = createApp(o.services);
    const res = await app.request("/openapi.json");
    expect(res.status).toBe(200);
    doc = (await res.json()) as JsonObject;
  });
  afterAll(async () => { await o.close(); });

  it("is OpenAPI 3.1.0 with a bearer scheme for API keys", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "Kakunin origin API" });
    expect(doc.components).toMatchObject({ securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } } });
  });

  it("documents every route the origin serves, and the origin serves every documented operation", () => {
    // The console (/console, HTML for browsers) is deliberately outside the API document; its
    // roles are tested page by page in console-roles.test.ts.
    const consolePaths = routes().map((r) => r.path).filter((p) => p === "/console" || p.startsWith("/console/"));
    expect(checkOpenApiDocument(doc, routes(), ["/openapi.json", ...consolePaths])).toEqual([]);
    const served = routes().map((r) => `${r.method} ${r.path}`);
    for (const r of ["POST /v1/agents", "GET /v1/agents/:id", "POST /v1/certificates/:id/revoke", "GET /v1/audit/proofs/inclusion"]) expect(served).toContain(r);
  });

  it("answers every documented operation, without credentials, as documented", async () => {
    expect(await probeOpenApiOperations(doc, send)).toEqual([]);
  });

  it("answers a served path under a method it does not serve with 405 and Allow, never 404", async () => {
    // The console's pages send a browser without a session to sign in before any routing.
    const api = routes().filter((r) => r.path !== "/console" && !r.path.startsWith("/console/"));
    expect(api.length).toBeGreaterThan(40);
    expect(await probeWrongMethods(api, send)).toEqual([]);
    // HEAD is answered by a GET route: on a POST-only path it is a wrong method too.
    const head = await app.request("/v1/init", { method: "HEAD" });
    expect([head.status, head.headers.get("allow")]).toEqual([405, "POST"]);
    // A path no route serves under any method is still a 404.
    const missing = await app.request("/v1/agents/00000000-0000-4000-8000-000000000000/nope", { method: "DELETE" });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ type: "urn:kakunin:problem:not-found", status: 404 });
    // A route that ran under its own method and found nothing (an unknown console asset) is a 404 too.
    const asset = await app.request("/console/assets/nope.js");
    expect([asset.status, asset.headers.get("allow")]).toEqual([404, null]);
  });

  it("the check fails on an undocumented route, a public-looking route that needs a key, and a JSON error", async () => {
    const bad = JSON.parse(JSON.stringify(doc)) as JsonObject;
    const paths = bad.paths as Record<string, Record<string, Record<string, Json>>>;
    delete paths["/v1/agents/{id}"];
    delete paths["/v1/tenant"]!.get!.security;
    const responses = paths["/v1/ca"]!.get!.responses as Record<string, Record<string, Json>>;
    responses["404"] = { description: "x", content: { "application/json": {} } };
    expect(checkOpenApiDocument(bad, routes(), ["/openapi.json"])).toEqual(expect.arrayContaining([
      "GET /v1/agents/{id} is served but not documented",
      "PATCH /v1/agents/{id} is served but not documented",
      "GET /v1/ca 404: an error response must be application/problem+json (has application/json)",
    ]));
    expect(await probeOpenApiOperations(bad, send)).toContain("GET /v1/tenant: needs credentials (401) but declares no security");
  });
});
