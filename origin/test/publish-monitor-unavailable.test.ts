import { isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { err, ok, recordKey, type EdgeRecord, type PublishBatch } from "@kakunin/shared";
import { outbox } from "../src/db/schema.ts";
import type { EdgeClient } from "../src/publish/edge-client.ts";
import { currentEpoch } from "../src/publish/epoch.ts";
import { Publisher } from "../src/publish/publisher.ts";
import { noSigners } from "../src/publish/signers.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

const agentOf = (r: EdgeRecord): string | undefined => ("agent_id" in r ? r.agent_id : undefined);

/**
 * The edge's answer when one agent's monitor is broken (workers/src/routes/internal_publish.ts):
 * every other record of the batch is applied, and the call is a 503 monitor-unavailable naming the
 * broken agents.
 */
function brokenMonitorEdge(broken: string, opts: { heldEpoch?: number } = {}) {
  const applied: { record: EdgeRecord; epoch: number }[] = [];
  const client: EdgeClient = {
    async publish(batch: PublishBatch) {
      const n = batch.epoch?.n ?? 0;
      // An edge that holds a newer epoch (the database was restored from a dump) refuses the batch whole.
      const ahead = opts.heldEpoch !== undefined && n <= opts.heldEpoch;
      const head = { epoch: { n: Math.max(n, opts.heldEpoch ?? 0), id: ahead ? "edge-epoch" : (batch.epoch?.id ?? "") }, max_v: 1_000_000 };
      const ack = ahead
        ? { applied: 0, stale: batch.records.length, stale_keys: batch.records.map(recordKey), head }
        : { applied: batch.records.filter((r) => agentOf(r) !== broken).length, stale: 0, ...(opts.heldEpoch !== undefined && { head }) };
      if (!ahead) applied.push(...batch.records.filter((r) => agentOf(r) !== broken).map((record) => ({ record, epoch: n })));
      if (!batch.records.some((r) => agentOf(r) === broken)) return ok(ack);
      return err({
        status: 503,
        body: JSON.stringify({
          type: "urn:kakunin:problem:monitor-unavailable",
          title: "This agent's monitor did not answer",
          status: 503,
          detail: "The monitor of 1 agent(s) did not answer; the rest of the batch was applied. Send it again.",
          agent_ids: [broken],
          ack,
        }),
      });
    },
  };
  return { client, applied };
}

describe.each(dbKinds())("a publish batch the edge answers 503 monitor-unavailable (one agent's monitor broken), %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });
  const pendingSubjects = async () => (await o.services.db.select().from(outbox).where(isNull(outbox.deliveredAt))).map((r) => r.subject);

  it("marks the other agents' records delivered, so the broken agent's held rows cannot keep later revocations from being claimed", async () => {
    const create = async (name: string) => (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name }) })).body.data.id;
    const broken = await create("monitor-broken");
    const brokenCert = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${broken}/certify`)).body.data;
    // A batch of 3 rows: the broken agent's changes come first and stay at the head of the outbox.
    const edge = brokenMonitorEdge(broken);
    const p = new Publisher(o.services, edge.client, noSigners, { log: () => {}, batchSize: 3 });
    const victims: { id: string; serial: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const id = await create(`monitor-victim-${i}`);
      const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${id}/certify`)).body.data;
      victims.push({ id: cert.id, serial: cert.serial_number });
    }
    // Revocations made while the monitor stays broken, queued behind its rows.
    for (const v of victims) expect((await o.json("POST", `/v1/certificates/${v.id}/revoke`, { body: { reason: "key compromise" } })).status).toBe(200);
    for (let round = 0; round < 30; round++) {
      const r = await p.drainOnce();
      if (!("error" in r) && !r.pending) break;
    }
    const revokedAtEdge = new Set(
      edge.applied
        .map((a) => a.record)
        .filter((r) => r.kind === "cert" && r.status === "revoked")
        .map((r) => (r as { serial_number: string }).serial_number),
    );
    // Before: each round claimed the same oldest rows (the broken agent's and the first ones
    // after them), the 503 released them all undelivered, and no later row was ever claimed.
    for (const v of victims) expect(revokedAtEdge.has(v.serial)).toBe(true);
    const pending = await pendingSubjects();
    expect(pending).toContain(brokenCert.serial_number);
    for (const v of victims) expect(pending).not.toContain(v.serial);
  });
  it("the broken agent's rows filling a whole batch do not hold the outbox either: they wait for their own backoff, the rest goes on at once", async () => {
    const create = async (name: string) => (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name }) })).body.data.id;
    const broken = await create("monitor-broken-many");
    // More rows of the broken agent than a batch holds (batch size 3): its certificates and agent record.
    const brokenSerials: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${broken}/certify`)).body.data;
      brokenSerials.push(c.serial_number);
      expect((await o.json("POST", `/v1/certificates/${c.id}/revoke`, { body: { reason: "superseded" } })).status).toBe(200);
    }
    const id = await create("monitor-victim-behind");
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${id}/certify`)).body.data;
    expect((await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "key compromise" } })).status).toBe(200);
    const edge = brokenMonitorEdge(broken);
    const p = new Publisher(o.services, edge.client, noSigners, { log: () => {}, batchSize: 3 });
    const outcomes: string[] = [];
    for (let round = 0; round < 30; round++) {
      const r = await p.drainOnce();
      outcomes.push("error" in r ? "error" : r.pending ? "more" : "idle");
      if (!("error" in r) && !r.pending) break;
    }
    // Before: every batch was the broken agent's oldest rows, the 503 released them, and the same
    // rows were claimed again each round: the revocation behind them never reached the edge.
    const revoked = edge.applied.some((a) => a.record.kind === "cert" && a.record.status === "revoked" && a.record.serial_number === cert.serial_number);
    expect(revoked).toBe(true);
    // A batch the edge took but for one agent is progress, not a failure the loop backs off from.
    expect(outcomes).not.toContain("error");
    const pending = await pendingSubjects();
    expect(pending).toEqual(expect.arrayContaining(brokenSerials));
    expect(pending).not.toContain(cert.serial_number);
    // Not forgotten: each of its rows is claimable again within the publisher's longest backoff (30 s).
    const held = (await o.services.db.select().from(outbox).where(isNull(outbox.deliveredAt))).filter((r) => brokenSerials.includes(r.subject));
    for (const r of held) expect(r.claimedUntil === null || r.claimedUntil.getTime() <= Date.now() + 30_000).toBe(true);
  });
  it("an edge that holds a newer epoch (a restored database) applied nothing: the origin starts a new epoch and re-publishes, it does not mark the batch delivered", async () => {
    const create = async (name: string) => (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name }) })).body.data.id;
    const broken = await create("monitor-broken-restored");
    await o.json("POST", `/v1/agents/${broken}/certify`);
    const id = await create("restored-victim");
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${id}/certify`)).body.data;
    expect((await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "key compromise" } })).status).toBe(200);
    const held = (await currentEpoch(o.services.db)).n + 5;
    const edge = brokenMonitorEdge(broken, { heldEpoch: held });
    const p = new Publisher(o.services, edge.client, noSigners, { log: () => {}, batchSize: 200 });
    for (let round = 0; round < 10; round++) {
      const r = await p.drainOnce();
      if (!("error" in r) && !r.pending) break;
    }
    // Before: the 503 was read as "the rest applied", the revocation was marked delivered while the
    // edge had refused it as stale, and it never reached the edge.
    const revocation = edge.applied.find((a) => a.record.kind === "cert" && a.record.status === "revoked" && a.record.serial_number === cert.serial_number);
    expect(revocation?.epoch).toBeGreaterThan(held);
    expect((await currentEpoch(o.services.db)).n).toBeGreaterThan(held);
  });
});
