import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Problem {
  type: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

/**
 * A 422 listed every failing field, however many: a 1 MB PATCH /v1/tenant/scoring naming 90,000
 * unknown features was answered with a 45 MB problem (each entry repeats the list of the scorer's
 * features), built in memory before the first byte went out. The edge lists the first 200 (workers/src/ingest/parse.ts); the origin
 * now does too, and the detail still counts them all.
 */
describe("a 422 lists a bounded number of fields", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
  });
  afterAll(async () => {
    await o.close();
  });

  const send = async (method: string, path: string, body: unknown) => {
    const raw = JSON.stringify(body);
    expect(raw.length).toBeLessThan(1024 * 1024);
    const r = await o.json<Problem>(method, path, { rawBody: raw, headers: { "content-type": "application/json" } });
    const bytes = JSON.stringify(r.body).length;
    return { ...r, bytes, sent: raw.length };
  };

  it("PATCH /v1/tenant/scoring with 90,000 unknown weights", async () => {
    const weights: Record<string, number> = {};
    for (let i = 0; i < 90_000; i++) weights[`k${i}`] = 1;
    const r = await send("PATCH", "/v1/tenant/scoring", { weights });
    expect(r.status).toBe(422);
    expect(r.res.headers.get("content-type")).toContain("application/problem+json");
    expect(r.body.errors!.length).toBeLessThanOrEqual(200);
    expect(r.body.errors![0]!.path).toBe("weights.k0");
    expect(r.body.detail).toContain("90000");
    // No bigger than what was sent.
    expect(r.bytes).toBeLessThan(r.sent);
  }, 60_000);

  it("POST /v1/agents with 200,000 scopes that are not strings", async () => {
    const r = await send("POST", "/v1/agents", agentBody({ scopes: Array.from({ length: 200_000 }, () => 1) }));
    expect(r.status).toBe(422);
    expect(r.body.errors!.length).toBeLessThanOrEqual(200);
    expect(r.bytes).toBeLessThan(r.sent);
  }, 60_000);

  it("a body with 60,000 keys named __proto__ (bounded by its own check)", async () => {
    const r = await send("PATCH", "/v1/tenant/scoring", { weights: Array.from({ length: 60_000 }, () => JSON.parse('{"__proto__":1}') as unknown) });
    expect(r.status).toBe(422);
    expect(r.body.errors!.length).toBeLessThanOrEqual(200);
    expect(r.bytes).toBeLessThan(r.sent);
  }, 60_000);

  it("a handful of errors are all listed, as before", async () => {
    const r = await send("PATCH", "/v1/tenant/scoring", { weights: { nope: 1, latency: 11 }, bogus: 1 });
    expect(r.status).toBe(422);
    expect(r.body.errors!.map((e) => e.path).sort()).toEqual(["(body)", "weights.nope"].sort());
  });
});
