/**
 * A revocation must reach the edge whatever text came with it. The edge's publish schema caps a
 * certificate record's revocation_reason at 512 characters, and two paths stored more: a review's
 * "review: <reason>" (the route takes 1024) and the sibling revoked with "agent suspended:
 * certificate <serial> revoked (<reason>)" after a 512-character reason. The edge refused the record
 * (422), the publisher dead-lettered it, and the edge went on answering "active" for a certificate
 * the origin had revoked. The edge here validates exactly as workers/src/routes/internal_publish.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { err, isWellFormedText, ok, publishBatchSchema, type CertStatusRecord, type PublishBatch } from "@kakunin/shared";
import { eq } from "drizzle-orm";
import type { EdgeClient } from "../src/publish/edge-client.ts";
import { Publisher } from "../src/publish/publisher.ts";
import { noSigners } from "../src/publish/signers.ts";
import { decideRisk } from "../src/internal/decide-risk.ts";
import { enqueue } from "../src/publish/outbox.ts";
import { certificates } from "../src/db/schema.ts";
import { EdgeModel } from "./edge-model.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

let o: TestOrigin;
let tenant = "";
beforeAll(async () => {
  o = await startTestOrigin("pglite");
  tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
});
afterAll(async () => {
  await o.close();
});

function validatingEdge() {
  const model = new EdgeModel();
  const refused: string[] = [];
  const edge: EdgeClient = {
    async publish(batch: PublishBatch) {
      const parsed = publishBatchSchema.safeParse(JSON.parse(JSON.stringify(batch)));
      if (!parsed.success) {
        refused.push(JSON.stringify(parsed.error.issues.slice(0, 2)));
        return err({ status: 422, body: '{"type":"urn:kakunin:problem:validation-failed"}' });
      }
      return ok(model.apply(batch));
    },
  };
  const publisher = new Publisher(o.services, edge, noSigners, { log: () => {} });
  const drain = async () => {
    for (let i = 0; i < 10; i++) await publisher.drainOnce();
  };
  return { model, refused, drain, cert: (serial: string) => model.get(`cert:${serial}`) as CertStatusRecord };
}

/**
 * The longest reason a route takes (its limit counts code points, as zod does), ending in astral
 * characters: a cut must not split a surrogate pair.
 */
const longest = (codePoints: number) => "r".repeat(codePoints - 100) + "😀".repeat(100);

describe("a revocation reaches the edge whatever its reason's length", () => {
  it("a review revoke with a 1024-character reason", async () => {
    const e = validatingEdge();
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } })).status).toBe(200);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const c = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const alert = {
      alert_id: `al-${agent}`,
      agent_id: agent,
      tenant_id: tenant,
      serial_number: c.serial_number,
      score: 0.93,
      event_ids: [],
      triggered_at: new Date().toISOString(),
    };
    expect((await decideRisk(o.services, { ...alert, reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "x" }] }))?.decision).toBe("flagged");
    await e.drain();
    expect((await o.json("POST", `/v1/agents/${agent}/review`, { body: { decision: "revoke", reason: longest(1024) } })).status).toBe(200);
    await e.drain();
    const rec = e.cert(c.serial_number);
    expect(e.refused).toEqual([]);
    expect(rec).toMatchObject({ status: "revoked", agent_status: "suspended" });
    expect([...rec.revocation_reason!].length).toBeLessThanOrEqual(512);
    expect(isWellFormedText(rec.revocation_reason!)).toBe(true);
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: true } })).status).toBe(200);
  });

  it("revoking a renewed certificate with a 512-character reason revokes its predecessor too (the sibling's reason is longer)", async () => {
    const e = validatingEdge();
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const first = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const renewed = await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certificates/renew`, { body: {} });
    expect(renewed.status).toBe(201);
    await e.drain();
    const rv = await o.json("POST", `/v1/certificates/${renewed.body.data.id}/revoke`, { body: { reason: longest(512), reason_code: "keyCompromise" } });
    expect(rv.status).toBe(200);
    await e.drain();
    expect(e.refused).toEqual([]);
    expect(e.cert(first.serial_number)).toMatchObject({ status: "revoked" });
  });

  it("a certificate stored with a longer reason by an earlier build is published cut to the edge's limit", async () => {
    const e = validatingEdge();
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const c = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    expect((await o.json("POST", `/v1/certificates/${c.id}/revoke`, { body: { reason: "compromised" } })).status).toBe(200);
    await o.services.db
      .update(certificates)
      .set({ revocationReason: longest(2000) })
      .where(eq(certificates.id, c.id));
    await o.services.db.transaction((tx) => enqueue(tx, [{ kind: "cert", subject: c.serial_number }]));
    await e.drain();
    expect(e.refused).toEqual([]);
    expect(e.cert(c.serial_number).status).toBe("revoked");
  });
});
