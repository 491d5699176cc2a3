import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, allPages, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Credential {
  id: string;
}

/**
 * GET /v1/agents/:id/credentials answered every credential of the agent, revoked ones included,
 * in one page whatever `?limit=` said (`next_cursor: null`); nothing caps how many an agent gets
 * over its life. It now pages like GET /v1/agents (oldest first, keyset cursor, limit 1-200,
 * default 50), and a cursor it did not hand out is 422 naming it.
 */
describe("GET /v1/agents/:id/credentials?limit=&cursor=", () => {
  let o: TestOrigin;
  let agent: string;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
    agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    for (let i = 0; i < 5; i++) {
      expect((await o.json("POST", `/v1/agents/${agent}/credentials`, { body: { name: `runtime-${i}` } })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await o.close();
  });

  it("pages of at most `limit` credentials, every one once, oldest first", async () => {
    const whole = await o.json<{ data: Credential[]; next_cursor: string | null }>("GET", `/v1/agents/${agent}/credentials`);
    expect(whole.body.data).toHaveLength(5);
    expect(whole.body.next_cursor).toBeNull();
    const { rows, pages } = await allPages<Credential>(o, `/v1/agents/${agent}/credentials`, 2);
    expect(pages).toBe(3);
    expect(rows.map((k) => k.id)).toEqual(whole.body.data.map((k) => k.id));
  });

  it("limit outside 1-200 and a foreign cursor are 422 naming the parameter", async () => {
    for (const [q, path] of [
      ["limit=0", "limit"],
      ["limit=201", "limit"],
      ["cursor=abc", "cursor"],
    ]) {
      const r = await o.json<{ errors: { path: string }[] }>("GET", `/v1/agents/${agent}/credentials?${q}`);
      expect(r.status, q).toBe(422);
      expect(r.body.errors.map((e) => e.path)).toEqual([path]);
    }
  });
});
