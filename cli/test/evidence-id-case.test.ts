/**
 * A UUID is the same id in upper or lower case (RFC 9562 §4: case-insensitive on input), and
 * the database agreed, but until 2026-12-07 five routes wrote the id as the caller typed it into
 * the agent's audit entries: one upper-case request (an auditor's evidence export was enough, and
 * .NET prints UUIDs in upper case) began a second per-agent chain under another spelling, and
 * every later evidence bundle of the agent failed `kakunin audit verify`, for good (the log is
 * append-only). Ids are now normalised where they come in.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { verifyBundle } from "../src/verify/index.ts";
import { fetchRoot } from "./support/run.ts";

describe("an agent id in upper case is the same agent, in the audit log too", () => {
  let o: TestOrigin;
  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-id-case-"));
    o = await startTestOrigin("pglite");
  }, 120_000);
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("every route answers and records the canonical id, and the agent's evidence still verifies", async () => {
    const { rootPem } = await fetchRoot(o, dir);
    const auditor = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "auditor", role: "auditor" } })).body.data.key;
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const ID = id.toUpperCase();
    expect((await o.json("POST", `/v1/agents/${ID}/certify`)).status).toBe(201);
    const calls: [string, string, unknown?, string?][] = [
      ["GET", `/v1/agents/${ID}/evidence`, undefined, auditor],
      ["POST", `/v1/agents/${ID}/ingest-tokens`, {}],
      ["POST", `/v1/agents/${ID}/sign`, { payload_b64: "aGk=" }],
      ["PATCH", `/v1/agents/${ID}`, { scopes: ["orders.*"] }],
      ["GET", `/v1/agents/${ID}`],
      ["GET", `/v1/agents/${ID}/certificates`],
      ["GET", `/v1/agents/${ID}/events`],
    ];
    for (const [method, path, body, key] of calls) {
      const r = await o.request(method, path, { body, key });
      expect(r.status, `${method} ${path}`).toBeLessThan(300);
      const text = await r.text();
      expect(text, `${method} ${path} echoes the id as typed`).not.toContain(ID);
    }
    const cred = await o.json<{ data: { id: string; agent_id: string } }>("POST", `/v1/agents/${ID}/credentials`, { body: { name: "runtime" } });
    expect(cred.status).toBe(201);
    expect(cred.body.data.agent_id).toBe(id);
    const revoked = await o.json<{ data: { id: string } }>("POST", `/v1/agents/${ID}/credentials/${cred.body.data.id.toUpperCase()}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.data.id).toBe(cred.body.data.id);

    const entries = await o.json<{ data: { agent_id: string | null }[] }>("GET", `/v1/audit/entries?agent_id=${ID}&limit=200`);
    expect(entries.status).toBe(200);
    expect(entries.body.data.length).toBeGreaterThan(5);
    expect(new Set(entries.body.data.map((e) => e.agent_id))).toEqual(new Set([id]));

    for (const spelling of [id, ID]) {
      const res = await o.request("GET", `/v1/agents/${spelling}/evidence`, { key: auditor });
      expect(res.status).toBe(200);
      const report = await verifyBundle(await res.json(), { rootPem });
      expect(report.ok, report.summary).toBe(true);
    }
  }, 120_000);
});
