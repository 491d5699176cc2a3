import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, allPages, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Entry {
  index: number;
}

/**
 * GET /v1/audit/entries answers `{data, next_cursor}` like every list, but read only `from`: a client
 * that followed the convention (`?cursor=<next_cursor>`, as the harness's allPages and the CLI do)
 * got the first page again, forever. The cursor is now read too; `from` still works (it is the
 * documented filter), and both at once must agree.
 */
describe("GET /v1/audit/entries?cursor=", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
    // Three agents: three audit entries (agent.created), after the bootstrap's own.
    for (let i = 0; i < 3; i++) expect((await o.json("POST", "/v1/agents", { body: agentBody({ name: `bot-${i}` }) })).status).toBe(201);
  });
  afterAll(async () => {
    await o.close();
  });

  it("following next_cursor as `cursor` walks every entry once, in index order", async () => {
    const all = await o.json<{ data: Entry[] }>("GET", "/v1/audit/entries?limit=1000");
    const total = all.body.data.length;
    expect(total).toBeGreaterThanOrEqual(3);
    const { rows, pages } = await allPages<Entry>(o, "/v1/audit/entries", 2);
    expect(rows.map((r) => r.index)).toEqual(all.body.data.map((r) => r.index));
    expect(pages).toBe(Math.ceil(total / 2));
  });

  it("the cursor is the next index: the same page as ?from=", async () => {
    const first = await o.json<{ data: Entry[]; next_cursor: string }>("GET", "/v1/audit/entries?limit=1");
    const byCursor = await o.json<{ data: Entry[] }>("GET", `/v1/audit/entries?limit=1&cursor=${first.body.next_cursor}`);
    const byFrom = await o.json<{ data: Entry[] }>("GET", `/v1/audit/entries?limit=1&from=${first.body.next_cursor}`);
    expect(byCursor.status).toBe(200);
    expect(byCursor.body.data).toEqual(byFrom.body.data);
    expect(byCursor.body.data[0]!.index).toBe(first.body.data[0]!.index + 1);
  });

  it("a cursor this API did not return is 422 naming it; cursor and a different from is 422", async () => {
    // An empty `cursor=` is the first page, as on every list (empty-cursor.test.ts).
    for (const bad of ["abc", "-1", "1e2"]) {
      const r = await o.json<{ errors: { path: string }[] }>("GET", `/v1/audit/entries?cursor=${bad}`);
      expect(r.status, bad).toBe(422);
      expect(r.body.errors.map((e) => e.path)).toContain("cursor");
    }
    const clash = await o.json<{ errors: { path: string }[] }>("GET", "/v1/audit/entries?cursor=2&from=1");
    expect(clash.status).toBe(422);
    expect(clash.body.errors.map((e) => e.path)).toEqual(["cursor"]);
    expect((await o.json("GET", "/v1/audit/entries?cursor=2&from=2")).status).toBe(200);
  });

  it('a reversed range (to below from or the cursor) is 422 naming `to`, not an empty list read as "nothing happened"; to = from is the empty half-open range', async () => {
    for (const q of ["from=3&to=1", "cursor=3&to=2", "from=1&to=0"]) {
      const r = await o.json<{ type: string; errors: { path: string; message: string }[] }>("GET", `/v1/audit/entries?${q}`);
      expect(r.status, q).toBe(422);
      expect(
        r.body.errors.map((e) => e.path),
        q,
      ).toEqual(["to"]);
    }
    const empty = await o.json<{ data: Entry[]; next_cursor: string | null }>("GET", "/v1/audit/entries?from=2&to=2");
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ data: [], next_cursor: null });
    // Paging inside a range ends on the range: the last cursor is at most `to`.
    const page = await o.json<{ data: Entry[]; next_cursor: string | null }>("GET", "/v1/audit/entries?from=0&to=2&limit=2");
    expect(page.body.data.map((e) => e.index)).toEqual([0, 1]);
    expect(page.body.next_cursor).toBeNull();
  });
});
