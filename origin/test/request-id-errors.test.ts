import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * Every answer echoes the request id (`x-request-id`), the one thing a caller can quote to find its
 * request in the logs. Only successes carried it: the problem answers (401, 404, 405, 415, 422,
 * 400, 413) are built as fresh Responses by the error and not-found handlers, which dropped the
 * header the logging middleware had set before the route ran, so exactly the answers someone would
 * ask about had no id.
 */
describe("x-request-id on problem answers", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite", { env: { KAKUNIN_MAX_BODY_BYTES: "1024" } });
  });
  afterAll(async () => {
    await o.close();
  });

  const json = { "content-type": "application/json" };
  const cases: [string, number, string, string, { key?: string | null; rawBody?: string; headers?: Record<string, string> }][] = [
    ["success", 200, "GET", "/v1/agents", {}],
    ["no credential", 401, "GET", "/v1/agents", { key: null }],
    ["unknown route", 404, "GET", "/v1/nope", {}],
    ["unknown record", 404, "GET", "/v1/agents/00000000-0000-4000-8000-000000000000", {}],
    ["wrong method", 405, "PUT", "/v1/agents", {}],
    ["wrong content type", 415, "POST", "/v1/agents", { rawBody: "x", headers: { "content-type": "text/plain" } }],
    ["malformed JSON", 400, "POST", "/v1/agents", { rawBody: "{", headers: json }],
    ["validation", 422, "POST", "/v1/agents", { rawBody: "{}", headers: json }],
    ["oversize", 413, "POST", "/v1/agents", { rawBody: `{"name":"${"a".repeat(2048)}"}`, headers: json }],
  ];

  it.each(cases)("%s (%i) echoes the caller's id", async (_label, status, method, path, opts) => {
    const id = `req-${status}-${method.toLowerCase()}`;
    const res = await o.request(method, path, { ...opts, headers: { ...opts.headers, "x-request-id": id } });
    expect(res.status).toBe(status);
    expect(res.headers.get("x-request-id")).toBe(id);
  });

  it("a generated id when the caller sent none, on a problem too", async () => {
    const res = await o.request("GET", "/v1/agents", { key: null });
    expect(res.status).toBe(401);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
