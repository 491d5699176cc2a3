import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Page {
  data: unknown[];
  next_cursor: string | null;
}

/**
 * The contract writes a list as `GET /v1/agents?cursor=&limit=`, and a client that fills in the
 * previous page's `next_cursor` sends `cursor=` empty before it has one. That is the first page on
 * every list, not a 422 "not a cursor returned by this API".
 */
describe("an empty ?cursor= is the first page", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
    for (let i = 0; i < 3; i++) expect((await o.json("POST", "/v1/agents", { body: agentBody({ name: `bot-${i}` }) })).status).toBe(201);
  });
  afterAll(async () => {
    await o.close();
  });

  it("on every cursor-paged list: the same page as without a cursor", async () => {
    const agent = (await o.json<{ data: { id: string }[] }>("GET", "/v1/agents?limit=1")).body.data[0]!.id;
    const lists = [
      "/v1/agents",
      `/v1/agents/${agent}/certificates`,
      `/v1/agents/${agent}/events`,
      `/v1/agents/${agent}/credentials`,
      "/v1/api-keys",
      "/v1/reviews",
      "/v1/admin/dead-letters",
      "/v1/audit/entries",
    ];
    for (const path of lists) {
      const plain = await o.json<Page>("GET", `${path}?limit=2`);
      const empty = await o.json<Page>("GET", `${path}?cursor=&limit=2`);
      expect(empty.status, path).toBe(200);
      expect(empty.body, path).toEqual(plain.body);
    }
    // Following next_cursor still pages on.
    const first = await o.json<Page>("GET", "/v1/agents?cursor=&limit=2");
    const second = await o.json<Page>("GET", `/v1/agents?cursor=${first.body.next_cursor}&limit=2`);
    expect(second.status).toBe(200);
    expect(second.body.data).not.toEqual(first.body.data);
  });
});
