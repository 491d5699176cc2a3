/**
 * Scopes travel in the edge's status record of each certificate. Narrowing an agent's scopes
 * re-published only its active certificate, so a renewed predecessor still inside its overlap
 * (24 h by default, up to 30 days) kept verifying for the scopes just taken away.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { ok, type CertStatusRecord, type PublishBatch } from "@kakunin/shared";
import type { EdgeClient } from "../src/publish/edge-client.ts";
import { Publisher } from "../src/publish/publisher.ts";
import { noSigners } from "../src/publish/signers.ts";
import { EdgeModel } from "./edge-model.ts";
import { agentBody, startTestOrigin, type TestOrigin } from "./harness.ts";

let o: TestOrigin;
beforeAll(async () => {
  o = await startTestOrigin("pglite");
});
afterAll(async () => {
  await o.close();
});

it("narrowing an agent's scopes reaches every certificate that still verifies, the renewed predecessor too", async () => {
  const model = new EdgeModel();
  const edge: EdgeClient = {
    async publish(batch: PublishBatch) {
      return ok(model.apply(batch));
    },
  };
  const p = new Publisher(o.services, edge, noSigners, { log: () => {} });
  const drain = async () => {
    for (let i = 0; i < 3; i++) await p.drainOnce();
  };
  const a = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ scopes: ["payments.*", "crm.lookup_customer"] }) })).body.data.id;
  const first = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${a}/certify`)).body.data;
  const renewed = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${a}/certificates/renew`, { body: {} })).body.data;
  await drain();
  expect((model.get(`cert:${first.serial_number}`) as CertStatusRecord).scopes).toEqual(["payments.*", "crm.lookup_customer"]);
  expect((await o.json("PATCH", `/v1/agents/${a}`, { body: { scopes: ["crm.lookup_customer"] } })).status).toBe(200);
  await drain();
  for (const serial of [first.serial_number, renewed.serial_number]) {
    expect((model.get(`cert:${serial}`) as CertStatusRecord).scopes, serial).toEqual(["crm.lookup_customer"]);
  }
});
