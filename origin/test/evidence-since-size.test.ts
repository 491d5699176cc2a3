/**
 * `GET /v1/agents/:id/evidence?since_size=N` with N beyond the log: no earlier tree head of that
 * size can exist, so the request is invalid (422, like proofs/inclusion?tree_size beyond the
 * log). A silently clamped proof would prove consistency with a tree the caller never held, and
 * the refused export must not append its checkpoint entry either.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

describe("evidence export with since_size beyond the log", () => {
  let o: TestOrigin;
  let agent = "";
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
    agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
  });
  afterAll(async () => {
    await o.close();
  });

  const size = async () => (await o.json<{ data: { tree_size: number } }>("GET", "/v1/audit/tree-head")).body.data.tree_size;

  it("answers 422 problem+json naming since_size and appends nothing", async () => {
    const before = await size();
    const r = await o.request("GET", `/v1/agents/${agent}/evidence?since_size=99999`);
    expect(r.status).toBe(422);
    expect(r.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    const problem = (await r.json()) as { detail: string; errors: { path: string }[] };
    expect(problem.detail).toBe("since_size is beyond the log");
    expect(problem.errors[0]!.path).toBe("since_size");
    expect(await size()).toBe(before);
  });

  it("since_size equal to the current log size still exports a consistency proof from it", async () => {
    const n = await size();
    const r = await o.json<{ data: { consistency: { from_size: number } } }>("GET", `/v1/agents/${agent}/evidence?since_size=${n}`);
    expect(r.status).toBe(200);
    expect(r.body.data.consistency.from_size).toBe(n);
  });
});
