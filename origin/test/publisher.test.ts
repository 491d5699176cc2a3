import { randomUUID } from "node:crypto";
import { isNotNull, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { err, ok, type CertStatusRecord, type EdgeRecord, type PublishBatch } from "@kakunin/shared";
import { ManualClock } from "../src/clock.ts";
import { outbox } from "../src/db/schema.ts";
import type { EdgeClient } from "../src/publish/edge-client.ts";
import { Publisher } from "../src/publish/publisher.ts";
import { OUTBOX_RETENTION_MS, Refresher } from "../src/publish/refresher.ts";
import { enqueue } from "../src/publish/outbox.ts";
import { tenantHealth } from "../src/console/health-data.ts";
import { keyManagerSigners } from "../src/publish/signers.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/** An edge that records batches and can be told to fail. */
function recordingEdge() {
  const batches: PublishBatch[] = [];
  let down = false;
  const client: EdgeClient = {
    async publish(batch) {
      if (down) return err("edge unreachable: simulated");
      batches.push(batch);
      return ok({ applied: batch.records.length, stale: 0 });
    },
  };
  return { client, batches, setDown: (d: boolean) => { down = d; }, records: (): EdgeRecord[] => batches.flatMap((b) => b.records) };
}

describe.each(dbKinds())("publisher on %s", (kind) => {
  let o: TestOrigin;
  const clock = new ManualClock(new Date("2026-06-01T00:00:00Z"));
  beforeAll(async () => { o = await startTestOrigin(kind, { clock }); });
  afterAll(async () => { await o.close(); });

  const pending = async () => (await o.services.db.select().from(outbox).where(isNull(outbox.deliveredAt))).length;
  const drainAll = async (p: Publisher) => {
    for (let i = 0; i < 20; i++) {
      const r = await p.drainOnce();
      if ("error" in r) return r;
      if (!r.pending) return r;
    }
    throw new Error("did not drain");
  };

  // The loop backs off up to 30 s while the edge is unreachable (each pass claims rows and signs
  // OCSP responses). A revocation made while the edge was away reached it 15–30 s after the edge
  // was back (measured 20 s against a restarted wrangler dev): the next attempt waited out the
  // backoff. The edge's /healthz is probed meanwhile, and its first answer wakes the loop.
  it("an edge back after being unreachable gets the revocations made meanwhile at once, not after the backoff", async () => {
    const batches: PublishBatch[] = [];
    let down = true;
    let attempts = 0;
    const client: EdgeClient = {
      async publish(batch) {
        attempts++;
        if (down) return err("edge unreachable: fetch failed");
        batches.push(batch);
        return ok({ applied: batch.records.length, stale: 0 });
      },
      async reachable() { return !down; },
    };
    const p = new Publisher(o.services, client, keyManagerSigners(o.services), { minBackoffMs: 30_000, maxBackoffMs: 30_000, probeMs: 50 });
    try {
      const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
      await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "edge away" } });
      p.start();
      for (let i = 0; i < 100 && attempts === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(attempts).toBeGreaterThan(0); // failed once: backing off 15–30 s
      down = false;
      const t0 = Date.now();
      const revoked = () => batches.flatMap((b) => b.records).some((r) => r.kind === "cert" && r.serial_number === cert.serial_number && r.status === "revoked");
      while (!revoked() && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      expect(revoked()).toBe(true);
    } finally {
      await p.stop();
    }
  });

  // Calls that wait for the edge's acknowledgement (awaitPublished: certify, revoke, tokens) do not
  // wait while the last delivery found the edge unreachable, and wait again once its /healthz
  // answers, even with nothing left to deliver (which is what would otherwise clear the verdict:
  // at `pnpm start` the origin's first deliveries fail while wrangler boots).
  it("the unreachable verdict is set by a failed delivery and cleared by the edge answering again", async () => {
    let down = true;
    const client: EdgeClient = {
      async publish() {
        return down ? err("edge unreachable: fetch failed") : ok({ applied: 0, stale: 0 });
      },
      async reachable() { return !down; },
    };
    const p = new Publisher(o.services, client, keyManagerSigners(o.services), { minBackoffMs: 30_000, maxBackoffMs: 30_000, probeMs: 50 });
    try {
      const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      await o.json("POST", `/v1/agents/${agent}/certify`);
      p.start();
      for (let i = 0; i < 100 && !p.edgeUnreachable; i++) await new Promise((r) => setTimeout(r, 20));
      expect(p.edgeUnreachable).toBe(true);
      // Nothing left to deliver (as at a fresh start): only the edge's answer can clear the verdict.
      await o.services.db.delete(outbox).where(isNull(outbox.deliveredAt));
      down = false;
      for (let i = 0; i < 100 && p.edgeUnreachable; i++) await new Promise((r) => setTimeout(r, 20));
      expect(p.edgeUnreachable).toBe(false);
    } finally {
      await p.stop();
    }
  });

  it("issuance and revocation reach the edge with increasing versions; a failure delivers nothing and loses nothing", async () => {
    const edge = recordingEdge();
    const p = new Publisher(o.services, edge.client, keyManagerSigners(o.services));
    await drainAll(p);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    await drainAll(p);
    const issued = edge.records().find((r): r is CertStatusRecord => r.kind === "cert" && r.serial_number === cert.serial_number)!;
    expect(issued).toMatchObject({ status: "active", agent_id: agent, scopes: ["orders.*", "crm.lookup_customer"] });
    expect(issued.ocsp_b64).toBeTruthy();

    edge.setDown(true);
    await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "edge down" } });
    const before = await pending();
    expect(before).toBeGreaterThanOrEqual(3); // cert, agent, crl
    expect("error" in (await p.drainOnce())).toBe(true);
    expect(await pending()).toBe(before);
    edge.setDown(false);
    await drainAll(p);
    expect(await pending()).toBe(0);
    const revoked = edge.records().filter((r): r is CertStatusRecord => r.kind === "cert" && r.serial_number === cert.serial_number);
    expect(revoked.at(-1)).toMatchObject({ status: "revoked", revocation_reason: "edge down" });
    expect(revoked.at(-1)!.v).toBeGreaterThan(issued.v);
    expect(edge.records().some((r) => r.kind === "crl")).toBe(true);
    expect(edge.records().some((r) => r.kind === "agent" && r.agent_id === agent && r.status === "suspended")).toBe(true);
  });

  it("a scope change republishes the active certificate's record; many changes to one subject coalesce", async () => {
    const edge = recordingEdge();
    const p = new Publisher(o.services, edge.client, keyManagerSigners(o.services));
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
    for (const scopes of [["a.*"], ["b.*"], ["payments.read"]]) await o.json("PATCH", `/v1/agents/${agent}`, { body: { scopes } });
    await drainAll(p);
    const recs = edge.records().filter((r): r is CertStatusRecord => r.kind === "cert" && r.serial_number === serial);
    expect(recs).toHaveLength(1);
    expect(recs[0]!.scopes).toEqual(["payments.read"]);
  });

  it("records in a batch are ordered by version", async () => {
    const edge = recordingEdge();
    const p = new Publisher(o.services, edge.client, keyManagerSigners(o.services));
    for (let i = 0; i < 3; i++) {
      const a = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      await o.json("POST", `/v1/agents/${a}/certify`);
    }
    await drainAll(p);
    for (const b of edge.batches) {
      const vs = b.records.map((r) => r.v);
      expect(vs).toEqual([...vs].sort((x, y) => x - y));
    }
  });

  it("the refresher re-signs OCSP at half-life and re-issues CRLs", async () => {
    const edge = recordingEdge();
    const p = new Publisher(o.services, edge.client, keyManagerSigners(o.services));
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
    await drainAll(p);
    const refresher = new Refresher(o.services);
    await refresher.runOnce(); // first run: CRLs for every tenant with a CA
    await drainAll(p);
    edge.batches.length = 0;
    expect((await refresher.runOnce()).certs).toBe(0); // nothing due yet
    clock.advance(2 * 86_400_000 + 1000);
    const r = await refresher.runOnce();
    expect(r.certs).toBeGreaterThan(0);
    expect(r.crls).toBeGreaterThan(0);
    await drainAll(p);
    expect(edge.records().some((x) => x.kind === "cert" && x.serial_number === serial)).toBe(true);
    expect(edge.records().some((x) => x.kind === "crl")).toBe(true);
  });

  it("a revocation is published in the next batch, not behind thousands of queued OCSP/CRL refreshes or a resync", async () => {
    const edge = recordingEdge();
    const p = new Publisher(o.services, edge.client, keyManagerSigners(o.services));
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "lane" }) })).body.data.id;
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    await drainAll(p);
    // Upkeep the refresher or a resync queued: 1,000 subjects, five batches' worth.
    await enqueue(o.services.db, Array.from({ length: 1000 }, () => ({ kind: "crl" as const, subject: randomUUID() })), { background: true });
    expect((await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "lane test" } })).status).toBe(200);
    edge.batches.length = 0;
    const first = await p.drainOnce();
    expect(first).toMatchObject({ pending: true });
    expect(edge.records()).toContainEqual(expect.objectContaining({ kind: "cert", serial_number: cert.serial_number, status: "revoked" }));
    await drainAll(p);
    expect(await pending()).toBe(0);
  });

  it("delivered outbox rows are pruned after OUTBOX_RETENTION_MS (the OCSP refresh alone adds a row per certificate every two days); pending ones never are", async () => {
    const edge = recordingEdge();
    const p = new Publisher(o.services, edge.client, keyManagerSigners(o.services));
    const refresher = new Refresher(o.services);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "pruned" }) })).body.data.id;
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const serial = cert.serial_number;
    expect((await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "key compromise" } })).status).toBe(200);
    await drainAll(p);
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    expect((await tenantHealth(o.services.db, tenant, clock.now())).propagation.map((x) => x.serial)).toContain(serial);
    const delivered = await o.services.db.select({ seq: outbox.seq }).from(outbox).where(isNotNull(outbox.deliveredAt));
    expect(delivered.length).toBeGreaterThan(0);
    clock.advance(OUTBOX_RETENTION_MS + 60_000);
    // Written while the edge is down: pending however old they get.
    edge.setDown(true);
    const late = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "pending-while-down" }) })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${late}/certify`)).status).toBe(201);
    expect(await p.drainOnce()).toHaveProperty("error");
    const pendingBefore = await pending();
    expect(pendingBefore).toBeGreaterThan(0);
    const r = await refresher.runOnce();
    expect(r.pruned).toBeGreaterThanOrEqual(delivered.length);
    expect(await o.services.db.select({ seq: outbox.seq }).from(outbox).where(isNotNull(outbox.deliveredAt))).toEqual([]);
    expect(await pending()).toBeGreaterThanOrEqual(pendingBefore);
    // The health page shows revocations inside the window only: an older one with its outbox row
    // gone is not "never delivered".
    expect((await tenantHealth(o.services.db, tenant, clock.now())).propagation.map((x) => x.serial)).not.toContain(serial);
    edge.setDown(false);
    expect(await drainAll(p)).not.toHaveProperty("error");
    expect(await pending()).toBe(0);
  });
});
