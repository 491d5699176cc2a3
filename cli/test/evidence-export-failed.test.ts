/**
 * An export appends its `evidence.exported` checkpoint and commits it, then signs a tree head
 * ending with it (a KeyManager call). When that signature fails (KMS or HSM unreachable, a
 * throttled key) the caller gets a 503 and no bundle, yet the log kept the checkpoint, whose kind
 * says the agent's evidence was exported, by that API key, for that window. A compliance officer
 * reading the log counted an export that never reached anyone. The log is append-only, so the
 * checkpoint stays (it is in the agent's chain, which later bundles prove whole); the origin now
 * appends an `evidence.export_failed` entry to the tenant's log (not to the agent's chain, so no
 * bundle changes shape) naming the checkpoint and why the export failed.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { err, TREE_HEAD_CONTEXT } from "@kakunin/shared";
import { agentBody, startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";
import { verifyBundle } from "../src/verify/index.ts";
import { fetchRoot } from "./support/run.ts";

interface Entry {
  index: number;
  kind: string;
  entry: { agent_id: string | null; actor: { type: string; id: string }; data: Record<string, unknown> };
}

describe("an export whose tree-head signature fails", () => {
  let o: TestOrigin;
  let dir = "";
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "kakunin-export-failed-"));
    o = await startTestOrigin("pglite");
  }, 120_000);
  afterAll(async () => {
    await o?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("records that the checkpoint's export never reached the caller, and later bundles still verify", async () => {
    const { rootPem } = await fetchRoot(o, dir);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
    expect((await o.json("GET", "/v1/audit/tree-head")).status).toBe(200);
    const keys = o.services.keys;
    const sign = keys.sign.bind(keys);
    const context = new TextEncoder().encode(TREE_HEAD_CONTEXT);
    keys.sign = async (ref, data) =>
      Buffer.from(data.subarray(0, context.length)).equals(Buffer.from(context))
        ? err({ code: "unavailable", message: "KMS unreachable (test)" })
        : sign(ref, data);
    try {
      const failed = await o.json<{ type: string }>("GET", `/v1/agents/${agent}/evidence`);
      expect(failed.status).toBe(503);
    } finally {
      keys.sign = sign;
    }
    const all = (await o.json<{ data: Entry[] }>("GET", "/v1/audit/entries?limit=500")).body.data;
    const checkpoint = all.find((e) => e.kind === "evidence.exported" && e.entry.agent_id === agent);
    expect(checkpoint).toBeDefined();
    const note = all.find((e) => e.kind === "evidence.export_failed");
    expect(note, "an evidence.export_failed entry").toBeDefined();
    expect(note!.index).toBeGreaterThan(checkpoint!.index);
    expect(note!.entry.agent_id).toBeNull();
    expect(note!.entry.actor).toEqual(checkpoint!.entry.actor);
    expect(note!.entry.data).toMatchObject({ agent_id: agent, checkpoint_index: checkpoint!.index, error: { code: "unavailable" } });

    const report = await verifyBundle((await o.json<{ data: unknown }>("GET", `/v1/agents/${agent}/evidence`)).body.data, { rootPem });
    expect(report.ok, report.summary).toBe(true);
  }, 120_000);

  it("a failure after the head is signed, before the bundle is sent (its CA chain, its consistency proof), is recorded too", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const ca = o.services.ca;
    // Read only once the tree head is signed (the bundle's chain is the head signer's: evidence.ts).
    const issuersOf = ca.issuersOf.bind(ca);
    ca.issuersOf = async () => {
      throw new Error("connection lost (test)");
    };
    try {
      const failed = await o.request("GET", `/v1/agents/${agent}/evidence`);
      expect(failed.status).toBeGreaterThanOrEqual(500);
    } finally {
      ca.issuersOf = issuersOf;
    }
    const root = ca.root.bind(ca);
    let calls = 0;
    // The root read before the checkpoint (chainPem) succeeds; the one after it fails.
    ca.root = async () => (++calls > 1 ? err({ code: "unavailable", message: "KMS unreachable (test)" }) : root());
    try {
      expect((await o.request("GET", `/v1/agents/${agent}/evidence`)).status).toBe(503);
    } finally {
      ca.root = root;
    }
    const all = (await o.json<{ data: Entry[] }>("GET", "/v1/audit/entries?limit=500")).body.data;
    const checkpoints = all.filter((e) => e.kind === "evidence.exported" && e.entry.agent_id === agent);
    expect(checkpoints).toHaveLength(2);
    const notes = all.filter((e) => e.kind === "evidence.export_failed" && e.entry.data.agent_id === agent);
    // Before: the checkpoints stayed with nothing saying their exports never reached the caller.
    expect(notes.map((n) => n.entry.data.checkpoint_index)).toEqual(checkpoints.map((c) => c.index));
    expect(notes[1]!.entry.data).toMatchObject({ stage: "sign", error: { code: "unavailable" } });
  }, 120_000);

  it("a stream that fails part way is recorded the same way", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const res = await o.request("GET", `/v1/agents/${agent}/evidence`);
    expect(res.status).toBe(200);
    // The checkpoint is committed and the head signed; the entries are read as the client pulls them.
    const db = o.services.db;
    const select = db.select.bind(db);
    db.select = (() => {
      throw new Error("connection lost (test)");
    }) as typeof db.select;
    try {
      await expect(res.text()).rejects.toThrow();
    } finally {
      db.select = select;
    }
    const all = (await o.json<{ data: Entry[] }>("GET", "/v1/audit/entries?limit=500")).body.data;
    const checkpoint = all.filter((e) => e.kind === "evidence.exported" && e.entry.agent_id === agent).at(-1)!;
    const note = all.find((e) => e.kind === "evidence.export_failed" && e.entry.data.agent_id === agent);
    expect(note?.entry.data).toMatchObject({ checkpoint_index: checkpoint.index, stage: "stream" });
  }, 120_000);
});
