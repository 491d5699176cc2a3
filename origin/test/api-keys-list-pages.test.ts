import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allPages, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Key {
  id: string;
  name: string;
}

/**
 * GET /v1/api-keys answered every key of the tenant in one page whatever `?limit=` said, with
 * `next_cursor: null`: nothing caps how many keys a tenant creates, and a client that asked for
 * 2 rows got all of them. It now pages like GET /v1/agents (oldest first, keyset cursor, limit
 * 1-200, default 50), and a cursor it did not hand out is 422 naming it.
 */
describe("GET /v1/api-keys?limit=&cursor=", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
    for (let i = 0; i < 4; i++) {
      expect((await o.json("POST", "/v1/api-keys", { body: { name: `key-${i}`, role: "auditor" } })).status).toBe(201);
    }
  });
  afterAll(async () => {
    await o.close();
  });

  it("pages of at most `limit` keys, every key once, oldest first", async () => {
    const whole = await o.json<{ data: Key[]; next_cursor: string | null }>("GET", "/v1/api-keys");
    expect(whole.body.data).toHaveLength(5); // the bootstrap key and four more
    expect(whole.body.next_cursor).toBeNull();
    const { rows, pages } = await allPages<Key>(o, "/v1/api-keys", 2);
    expect(pages).toBe(3);
    expect(rows.map((k) => k.id)).toEqual(whole.body.data.map((k) => k.id));
  });

  it("limit outside 1-200 and a foreign cursor are 422 naming the parameter", async () => {
    for (const [q, path] of [
      ["limit=0", "limit"],
      ["limit=201", "limit"],
      ["cursor=abc", "cursor"],
    ]) {
      const r = await o.json<{ errors: { path: string }[] }>("GET", `/v1/api-keys?${q}`);
      expect(r.status, q).toBe(422);
      expect(r.body.errors.map((e) => e.path)).toEqual([path]);
    }
  });
});
