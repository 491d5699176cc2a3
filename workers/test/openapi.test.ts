import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import type { z } from "@hono/zod-openapi";
import { afterEach, describe, expect, expectTypeOf, it } from "vitest";
import { mintIngestToken } from "@kakunin/shared";
import { checkOpenApiDocument, type Json, type JsonObject } from "../../shared/src/openapi-check.ts";
import { probeOpenApiOperations } from "../../shared/src/openapi-probe.ts";
import { app } from "../src/app.ts";
import type { DidDocument } from "../src/did/document.ts";
import { problemSchema } from "../src/http/openapi.ts";
import type { IngestOutcome, RiskView } from "../src/monitor/types.ts";
import { healthRoute } from "../src/openapi/document.ts";
import { type didDocumentSchema, didResolutionSchema, type ingestOutcomeSchema, riskViewSchema, type verifyResultSchema } from "../src/openapi/schemas.ts";
import { route as publishRoute } from "../src/routes/internal_publish.ts";
import { route as riskRoute } from "../src/routes/v1_agents_risk.ts";
import { resolveRoute } from "../src/routes/v1_did.ts";
import { route as eventsRoute } from "../src/routes/v1_events.ts";
import { route as verifyRoute } from "../src/routes/v1_verify.ts";
import type { VerifyResult } from "../src/verify/evaluate.ts";
import { agentRec, certRec, publish, SECRET } from "./fixtures.ts";

afterEach(async () => { await reset(); });

const send = (r: Request) => exports.default.fetch(r);

async function edgeDoc(): Promise<JsonObject> {
  const res = await exports.default.fetch("http://edge/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  return (await res.json()) as JsonObject;
}

const routes = () => app.routes.map((r) => ({ method: r.method, path: r.path }));

describe("edge OpenAPI document", () => {
  it("is OpenAPI 3.1.0, titled Kakunin edge API, with both security schemes", async () => {
    const doc = await edgeDoc();
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "Kakunin edge API" });
    expect(doc.components).toMatchObject({
      securitySchemes: { ingestToken: { type: "http", scheme: "bearer" }, signedInternal: { type: "apiKey", in: "header", name: "kakunin-signature" } },
    });
  });

  it("documents every route the Worker serves, and the Worker serves every documented operation", async () => {
    const doc = await edgeDoc();
    expect(checkOpenApiDocument(doc, routes(), ["/openapi.json"])).toEqual([]);
    // The route table really is the Worker's: these are the routes the other tests exercise.
    const served = routes().map((r) => `${r.method} ${r.path}`);
    for (const r of ["GET /v1/verify/:serial", "POST /v1/events", "GET /v1/ocsp/*", "POST /internal/v1/publish", "POST /bench/noop"]) expect(served).toContain(r);
  });

  it("answers every documented operation, without credentials, as documented", async () => {
    expect(await probeOpenApiOperations(await edgeDoc(), send, "http://edge")).toEqual([]);
  });

  it("tags internal routes `internal` and keeps /v1/verify public", async () => {
    const paths = (await edgeDoc()).paths as Record<string, Record<string, { tags?: string[]; security?: unknown[] }>>;
    expect(paths["/internal/v1/publish"]?.post?.tags).toEqual(["internal"]);
    expect(paths["/bench/noop"]?.post?.tags).toEqual(["internal"]);
    expect(paths["/v1/verify/{serial}"]?.get?.security).toBeUndefined();
    expect(paths["/v1/events"]?.post?.security).toEqual([{ ingestToken: [] }]);
  });
});

describe("the check itself fails on a wrong document", () => {
  const clone = (doc: JsonObject): JsonObject => JSON.parse(JSON.stringify(doc)) as JsonObject;
  const pathsOf = (doc: JsonObject) => doc.paths as Record<string, Record<string, Record<string, Json>>>;

  it("reports an undocumented route and an operation nobody serves", async () => {
    const doc = clone(await edgeDoc());
    const paths = pathsOf(doc);
    delete paths["/v1/events"];
    paths["/v1/ghost/{id}"] = { get: { summary: "x", responses: { 200: { description: "x" } }, parameters: [{ name: "id", in: "path", required: true }] } };
    const findings = checkOpenApiDocument(doc, [...routes(), { method: "DELETE", path: "/v1/verify/:serial" }], ["/openapi.json"]);
    expect(findings).toEqual(expect.arrayContaining([
      "POST /v1/events is served but not documented",
      "DELETE /v1/verify/{serial} is served but not documented",
      "GET /v1/ghost/{id} is documented but not served",
    ]));
  });

  it("reports a dangling $ref, a flagged pattern, a JSON error response, a missing summary, an undeclared path parameter, a wrong version", async () => {
    const doc = clone(await edgeDoc());
    const verify = pathsOf(doc)["/v1/verify/{serial}"]!.get!;
    const responses = verify.responses as Record<string, Record<string, Json>>;
    responses["404"]!.content = { "application/json": { schema: { $ref: "#/components/schemas/Nope" } } };
    delete verify.summary;
    verify.parameters = [];
    doc.openapi = "3.0.3";
    const problem = ((doc.components as JsonObject).schemas as Record<string, { properties: Record<string, JsonObject> }>).Problem!;
    problem.properties.type!.pattern = "^urn:.*$/i";
    const findings = checkOpenApiDocument(doc, routes(), ["/openapi.json"]);
    expect(findings).toEqual(expect.arrayContaining([
      'openapi is "3.0.3", expected "3.1.0"',
      "GET /v1/verify/{serial}: no summary",
      "GET /v1/verify/{serial} 404: an error response must be application/problem+json (has application/json)",
      "GET /v1/verify/{serial}: path parameter {serial} not declared as required",
      "#/paths/~1v1~1verify~1{serial}/get/responses/404/content/application~1json/schema: $ref #/components/schemas/Nope does not resolve",
      "#/components/schemas/Problem/properties/type: pattern ^urn:.*$/i carries JavaScript regex flags and can never match",
    ]));
  });

  it("reports a route that needs credentials but is documented as public, and the reverse", async () => {
    const doc = clone(await edgeDoc());
    const paths = pathsOf(doc);
    delete paths["/v1/events"]!.post!.security;
    paths["/v1/verify/{serial}"]!.get!.security = [{ ingestToken: [] }];
    const findings = await probeOpenApiOperations(doc, send, "http://edge");
    expect(findings).toEqual(expect.arrayContaining([
      "POST /v1/events: needs credentials (401) but declares no security",
      "GET /v1/verify/{serial}: declares security but answered 404 without credentials",
    ]));
  });
});

describe("real answers match the documented schemas", () => {
  it("handler result types conform to the schemas (compile time)", () => {
    expectTypeOf<VerifyResult>().toExtend<z.input<typeof verifyResultSchema>>();
    expectTypeOf<IngestOutcome>().toExtend<z.input<typeof ingestOutcomeSchema>>();
    expectTypeOf<RiskView>().toExtend<z.input<typeof riskViewSchema>>();
    expectTypeOf<DidDocument>().toExtend<z.input<typeof didDocumentSchema>>();
  });

  it("healthz, publish, verify, events, risk, DID resolution and problems parse with their documented schemas", async () => {
    const cert = certRec();
    const agent = agentRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, current_serial: cert.serial_number });
    const json = async (r: Response, status: number) => {
      expect(r.status).toBe(status);
      return (await r.json()) as unknown;
    };
    const parse = (schema: z.ZodType, body: unknown) => expect(schema.safeParse(body).error?.issues ?? []).toEqual([]);

    parse(healthRoute.responses[200].content["application/json"].schema, await json(await exports.default.fetch("http://edge/healthz"), 200));
    parse(publishRoute.responses[200].content["application/json"].schema, await json(await publish([cert, agent]), 200));
    parse(verifyRoute.responses[200].content["application/json"].schema, await json(await exports.default.fetch(`http://edge/v1/verify/${cert.serial_number}`), 200));

    const now = Math.floor(Date.now() / 1000);
    const token = await mintIngestToken(SECRET, { agent_id: cert.agent_id, tenant_id: cert.tenant_id, serial: cert.serial_number, iat: now, exp: now + 600, jti: crypto.randomUUID() });
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const event = { event_id: "e-1", timestamp: new Date().toISOString(), type: "tool_call", action: "orders.place", outcome: "success", amount: 10 };
    const events = await exports.default.fetch("http://edge/v1/events", { method: "POST", headers: auth, body: JSON.stringify({ events: [event, event] }) });
    parse(eventsRoute.responses[202].content["application/json"].schema, await json(events, 202));
    parse(eventsRoute.request.body.content["application/json"].schema, { events: [event] });
    parse(riskRoute.responses[200].content["application/json"].schema, await json(await exports.default.fetch(`http://edge/v1/agents/${cert.agent_id}/risk`, { headers: auth }), 200));

    const did = await exports.default.fetch(`http://edge/v1/did/did:kakunin:${cert.agent_id}`);
    parse(didResolutionSchema, await json(did, 200));
    parse(resolveRoute.responses[200].content["application/did+ld+json"].schema, { "@context": "https://w3id.org/did-resolution/v1", didDocument: null, didResolutionMetadata: { contentType: "application/did+json" }, didDocumentMetadata: { deactivated: true } });

    parse(problemSchema, await json(await exports.default.fetch("http://edge/v1/verify/zz"), 400));
    const invalid = await json(await exports.default.fetch("http://edge/v1/events", { method: "POST", headers: auth, body: JSON.stringify({ ...event, amount: -1 }) }), 422);
    parse(problemSchema, invalid);
    expect(invalid).toMatchObject({ errors: [{ path: "amount" }] });
  });

  it("the schemas are not vacuous: a wrong verify answer does not parse", () => {
    const schema = verifyRoute.responses[200].content["application/json"].schema;
    expect(schema.safeParse({ data: { serial_number: "4d2", status: "unknown" } }).success).toBe(false);
    expect(riskViewSchema.safeParse({ agent_id: "x", score: 2, band: "low", reasons: [], events_scored: 0, updated_at: null }).success).toBe(false);
  });
});
