/**
 * Times a caller sends that RFC 3339 allows but the database cannot hold: year 0000 (PostgreSQL
 * has no year 0) and an offset that carries 9999-12-31 into the year 10000. A forged page cursor
 * with such a time was a 500 (sqlstate 22008) on every keyset-paged list, and so was an evidence
 * window with one, after the export had already appended its checkpoint to the write-once log.
 * They are 422 naming the field now, and nothing is appended. HEAD on the evidence route (a safe
 * method) appended a checkpoint too; it no longer does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Problem {
  type: string;
  status: number;
  errors?: { path: string; message: string }[];
}

const cursorOf = (t: string) => Buffer.from(JSON.stringify({ t, id: "00000000-0000-0000-0000-000000000000" })).toString("base64url");

describe.each(dbKinds())("times outside years 0001-9999 (%s)", (kind) => {
  let o: TestOrigin;
  let agent = "";
  let webhook = "";
  beforeAll(async () => {
    o = await startTestOrigin(kind, { env: { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1" } });
    agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    webhook = (await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { body: { url: "http://127.0.0.1:9/hook" } })).body.data.id;
  });
  afterAll(async () => {
    await o.close();
  });

  const treeSize = async () => (await o.json<{ data: { tree_size: number } }>("GET", "/v1/audit/tree-head")).body.data.tree_size;

  it("a forged cursor whose time is year 0000 or past 9999 is 422 naming `cursor` on every paged list; a real one still pages", async () => {
    const lists = [
      "/v1/agents",
      `/v1/agents/${agent}/events`,
      `/v1/agents/${agent}/credentials`,
      `/v1/agents/${agent}/certificates`,
      "/v1/api-keys",
      "/v1/reviews",
      "/v1/admin/dead-letters",
      `/v1/tenant/webhooks/${webhook}/deliveries`,
    ];
    for (const path of lists) {
      for (const t of ["0000-01-01T00:00:00.000Z", "0000-12-31T23:59:59.999Z"]) {
        const r = await o.json<Problem>("GET", `${path}?cursor=${cursorOf(t)}`);
        expect(r.status, `${path} ${t}`).toBe(422);
        expect(r.body.errors).toEqual([{ path: "cursor", message: "not a cursor returned by this API" }]);
      }
      // The earliest time the database holds is a cursor like any other (before every row: the whole list).
      expect((await o.json("GET", `${path}?cursor=${cursorOf("0001-01-01T00:00:00.000Z")}`)).status, path).toBe(200);
    }
  });

  it("an evidence window with such a time is 422 naming the field, and the export appends nothing", async () => {
    const before = await treeSize();
    for (const [q, field] of [
      ["from=0000-06-01T00:00:00Z", "from"],
      ["to=0000-01-01T00:00:00Z", "to"],
      // 0001-01-01 at +01:00 is 0000-12-31T23:00Z; 9999-12-31T23:30 at -01:00 is in the year 10000.
      ["from=0001-01-01T00:00:00%2B01:00", "from"],
      ["to=9999-12-31T23:30:00-01:00", "to"],
    ] as const) {
      const r = await o.json<Problem>("GET", `/v1/agents/${agent}/evidence?${q}`);
      expect(r.status, q).toBe(422);
      expect(r.body.type).toBe("urn:kakunin:problem:validation-failed");
      expect(r.body.errors?.map((e) => e.path)).toEqual([field]);
    }
    expect(await treeSize()).toBe(before);
    // The widest window the database holds is an ordinary export (one checkpoint).
    const wide = await o.request("GET", `/v1/agents/${agent}/evidence?from=0001-01-01T00:00:00Z&to=9999-12-31T23:59:59Z`);
    expect(wide.status).toBe(200);
    await wide.text();
    expect(await treeSize()).toBe(before + 1);
  });

  it("HEAD on the evidence route answers as GET would without exporting: no checkpoint, no tree head", async () => {
    const before = await treeSize();
    const head = await o.request("HEAD", `/v1/agents/${agent}/evidence`);
    expect(head.status).toBe(200);
    expect(head.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await head.text()).toBe("");
    expect((await o.request("HEAD", "/v1/agents/00000000-0000-4000-8000-000000000000/evidence")).status).toBe(404);
    expect(await treeSize()).toBe(before);
  });

  it("an expiring_within window past the year 9999 is 422, not a time the database cannot hold", async () => {
    const r = await o.json<Problem>("GET", "/v1/agents?expiring_within=9999999d");
    expect(r.status).toBe(422);
    expect(r.body.errors?.[0]?.path).toBe("expiring_within");
    expect((await o.json("GET", "/v1/agents?expiring_within=36500d")).status).toBe(200);
  });
});
