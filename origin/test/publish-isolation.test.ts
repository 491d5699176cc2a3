import { isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { err, ok, type EdgeRecord, type PublishBatch } from "@kakunin/shared";
import { outbox } from "../src/db/schema.ts";
import type { EdgeClient } from "../src/publish/edge-client.ts";
import { Publisher } from "../src/publish/publisher.ts";
import { keyManagerSigners, noSigners } from "../src/publish/signers.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/** An edge that refuses (with `status`) any batch holding a record `poison` matches, and takes the rest. */
function pickyEdge(poison: (r: EdgeRecord) => boolean) {
  const applied: EdgeRecord[] = [];
  let status = 422;
  const client: EdgeClient = {
    async publish(batch: PublishBatch) {
      if (batch.records.some(poison)) return err({ status, body: status === 426 ? '{"type":"urn:kakunin:problem:unsupported-wire-version"}' : '{"type":"urn:kakunin:problem:validation-failed"}' });
      applied.push(...batch.records);
      return ok({ applied: batch.records.length, stale: 0 });
    },
  };
  return { client, applied, setStatus: (s: number) => { status = s; } };
}

describe.each(dbKinds())("a refused publish batch on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => { o = await startTestOrigin(kind); });
  afterAll(async () => { await o.close(); });
  const pending = async () => (await o.services.db.select().from(outbox).where(isNull(outbox.deliveredAt))).length;

  it("never stops the other records: the refused one is split off and dead-lettered, the rest reach the edge", async () => {
    const quiet = new Publisher(o.services, pickyEdge(() => false).client, noSigners, { log: () => {} });
    await quiet.drainOnce();
    const agents: string[] = [];
    for (let i = 0; i < 5; i++) agents.push((await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: `pub-${kind}-${i}` }) })).body.data.id);
    const certs = [];
    for (const a of agents) certs.push((await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${a}/certify`)).body.data.serial_number);
    const bad = certs[2]!;
    const edge = pickyEdge((r) => r.kind === "cert" && r.serial_number === bad);
    const p = new Publisher(o.services, edge.client, noSigners, { log: () => {} });
    const r = await p.drainOnce();
    expect("error" in r).toBe(false);
    const delivered = new Set(edge.applied.filter((x) => x.kind === "cert").map((x) => (x as { serial_number: string }).serial_number));
    expect([...delivered].sort()).toEqual(certs.filter((c) => c !== bad).sort());
    expect(await pending()).toBe(0);
    const letters = (await o.json<{ data: { kind: string; ref: string; status: number }[] }>("GET", "/v1/admin/dead-letters")).body.data;
    expect(letters).toContainEqual(expect.objectContaining({ kind: "publish", ref: `cert:${bad}`, status: 422 }));
    // Replay once the edge is fixed: the record is queued again and delivered.
    const id = (await o.json<{ data: { id: string; ref: string }[] }>("GET", "/v1/admin/dead-letters")).body.data.find((l) => l.ref === `cert:${bad}`)!.id;
    expect((await o.json("POST", `/v1/admin/dead-letters/${id}/replay`)).status).toBe(200);
    const fixed = pickyEdge(() => false);
    await new Publisher(o.services, fixed.client, noSigners, { log: () => {} }).drainOnce();
    expect(fixed.applied.some((x) => x.kind === "cert" && x.serial_number === bad)).toBe(true);
  });

  it("a wire-version refusal (426, rolling deploy) holds everything: no split, no dead letter", async () => {
    const a = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: `hold-${kind}` }) })).body.data.id;
    await o.json("POST", `/v1/agents/${a}/certify`);
    const edge = pickyEdge(() => true);
    edge.setStatus(426);
    const logs: string[] = [];
    const p = new Publisher(o.services, edge.client, noSigners, { log: (m) => logs.push(m) });
    const before = await pending();
    expect("error" in (await p.drainOnce())).toBe(true);
    expect(await pending()).toBe(before);
    expect(logs.join("\n")).toMatch(/wire_version/);
    const letters = (await o.json<{ data: { ref: string }[] }>("GET", "/v1/admin/dead-letters")).body.data;
    expect(letters.filter((l) => l.ref.includes(a))).toEqual([]);
  });

  it("an edge still on publish v2 (rolling deploy) takes every status record; only partition CRLs (v3) are held, then delivered after its upgrade", async () => {
    await new Publisher(o.services, pickyEdge(() => false).client, noSigners, { log: () => {} }).drainOnce();
    const a = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: `v2edge-${kind}` }) })).body.data.id;
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${a}/certify`)).body.data;
    expect((await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "rolling" } })).status).toBe(200);
    const applied: EdgeRecord[] = [];
    const versions: number[] = [];
    let edgeVersion = 2;
    const client: EdgeClient = {
      async publish(batch: PublishBatch) {
        versions.push(batch.wire_version ?? 1);
        if ((batch.wire_version ?? 1) > edgeVersion) return err({ status: 426, body: '{"type":"urn:kakunin:problem:unsupported-wire-version"}' });
        applied.push(...batch.records);
        return ok({ applied: batch.records.length, stale: 0 });
      },
    };
    const p = new Publisher(o.services, client, keyManagerSigners(o.services), { log: () => {} });
    expect("error" in (await p.drainOnce())).toBe(true);
    expect(applied).toContainEqual(expect.objectContaining({ kind: "cert", serial_number: cert.serial_number, status: "revoked" }));
    expect(applied.some((r) => r.kind === "crl" && r.partition !== undefined)).toBe(false);
    expect(versions).toEqual([2, 3]);
    expect(await pending()).toBeGreaterThan(0);
    const letters = (await o.json<{ data: { kind: string }[] }>("GET", "/v1/admin/dead-letters")).body.data;
    expect(letters.filter((l) => l.kind === "publish").length).toBe(1); // only the first test's
    edgeVersion = 3;
    const r = await p.drainOnce();
    expect("error" in r).toBe(false);
    expect(applied.some((x) => x.kind === "crl" && x.partition !== undefined)).toBe(true);
    expect(await pending()).toBe(0);
  });
});
