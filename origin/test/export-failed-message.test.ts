/**
 * evidence.export_failed (audit/export-failed.ts) copied the failure's own text into the entry:
 * a KeyManager refusal's message (an AWS error names the operator's account, role and key ARN),
 * and since 4b6e099 any exception thrown after the checkpoint, whose message for a failed query
 * is drizzle's "Failed query: <SQL> params: <values>". The audit log is append-only, archived under
 * Object Lock and read by the tenant's auditors, so whatever went in stays there for years; the
 * API answers the same failures with a fixed sentence (keyManagerFailure, onError) and keeps the
 * cause for the operator's log, where even the query's outer message is left out. The entry now
 * holds the code and a fixed sentence; the cause goes to the operator's log.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { err, TREE_HEAD_CONTEXT } from "@kakunin/shared";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Entry {
  kind: string;
  entry: { data: { agent_id?: string; stage?: string; error?: { code: string; message: string } } };
}

const ARN = "arn:aws:iam::123456789012:assumed-role/kakunin-origin/i-0abc";
const KMS_TEXT = `AccessDeniedException: User: ${ARN} is not authorized to perform: kms:Sign on resource: arn:aws:kms:eu-west-1:123456789012:key/0f0e`;
/** What drizzle throws for a failed query: its SQL and its parameters (here an owner's email). */
const queryError = () =>
  Object.assign(new Error(`Failed query: select "owner_email" from "agents" where "id" = $1\nparams: owner@example.com`), {
    cause: Object.assign(new Error("Connection terminated unexpectedly"), { code: "57P01" }),
  });

describe("evidence.export_failed records no internal error text", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
  }, 120_000);
  afterAll(async () => {
    await o?.close();
  });

  const noteFor = async (agent: string): Promise<NonNullable<Entry["entry"]["data"]["error"]> & { stage: string }> => {
    const all = (await o.json<{ data: Entry[] }>("GET", "/v1/audit/entries?limit=500")).body.data;
    const note = all.filter((e) => e.kind === "evidence.export_failed" && e.entry.data.agent_id === agent).at(-1);
    expect(note, "an evidence.export_failed entry").toBeDefined();
    return { ...note!.entry.data.error!, stage: note!.entry.data.stage! };
  };
  const newAgent = async () => (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;

  it("a KeyManager refusal of the tree head: its code, not the KMS's text", async () => {
    const agent = await newAgent();
    const keys = o.services.keys;
    const sign = keys.sign.bind(keys);
    const context = new TextEncoder().encode(TREE_HEAD_CONTEXT);
    keys.sign = async (ref, data) =>
      Buffer.from(data.subarray(0, context.length)).equals(Buffer.from(context)) ? err({ code: "unavailable", message: KMS_TEXT }) : sign(ref, data);
    try {
      expect((await o.json("GET", `/v1/agents/${agent}/evidence`)).status).toBe(503);
    } finally {
      keys.sign = sign;
    }
    const note = await noteFor(agent);
    expect(note.code).toBe("unavailable");
    expect(note.stage).toBe("sign");
    expect(JSON.stringify(note)).not.toMatch(/123456789012|arn:aws|AccessDenied/);
  }, 60_000);

  it("an exception after the checkpoint (the CA chain read): not the query or its parameters", async () => {
    const agent = await newAgent();
    const ca = o.services.ca;
    const issuersOf = ca.issuersOf.bind(ca);
    ca.issuersOf = async () => {
      throw queryError();
    };
    try {
      expect((await o.request("GET", `/v1/agents/${agent}/evidence`)).status).toBeGreaterThanOrEqual(500);
    } finally {
      ca.issuersOf = issuersOf;
    }
    const note = await noteFor(agent);
    expect(note.stage).toBe("sign");
    expect(JSON.stringify(note)).not.toMatch(/Failed query|owner@example\.com|owner_email|params/);
  }, 60_000);

  it("a stream that fails part way: not the query or its parameters", async () => {
    const agent = await newAgent();
    const res = await o.request("GET", `/v1/agents/${agent}/evidence`);
    expect(res.status).toBe(200);
    const db = o.services.db;
    const select = db.select.bind(db);
    db.select = (() => {
      throw queryError();
    }) as typeof db.select;
    try {
      await expect(res.text()).rejects.toThrow();
    } finally {
      db.select = select;
    }
    const note = await noteFor(agent);
    expect(note.stage).toBe("stream");
    expect(JSON.stringify(note)).not.toMatch(/Failed query|owner@example\.com|owner_email|params/);
  }, 60_000);
});
