import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ok, type CertStatusRecord, type EdgeRecord } from "@kakunin/shared";
import { agentBody, startTestOrigin, type TestOrigin } from "../origin/test/harness.ts";
import type { EdgeClient } from "../origin/src/publish/edge-client.ts";
import { outbox } from "../origin/src/db/schema.ts";
import { Publisher } from "../origin/src/publish/publisher.ts";
import { keyManagerSigners } from "../origin/src/publish/signers.ts";
import { startKmsTestServer, type KmsTestServer } from "./support/kms-server.ts";

/**
 * The origin on aws-kms against the KMS-compatible test server made to hang (accepts, never
 * answers): status records still reach the edge, unsigned, within the KMS deadline; OCSP and CRL
 * are re-signed as soon as the KMS answers again, not at the 2-day refresh.
 */
describe("a hung KMS while publishing a revocation", () => {
  let kms: KmsTestServer;
  let o: TestOrigin;
  beforeAll(async () => {
    kms = await startKmsTestServer();
    o = await startTestOrigin("pglite", {
      env: {
        KAKUNIN_KEY_MANAGER: "aws-kms", KAKUNIN_KMS_ENDPOINT: kms.url, AWS_REGION: kms.region,
        AWS_ACCESS_KEY_ID: kms.accessKeyId, AWS_SECRET_ACCESS_KEY: kms.secretAccessKey, KAKUNIN_KMS_TIMEOUT_MS: "3000",
      },
    });
  });
  afterAll(async () => {
    kms?.setHang(false);
    await o?.close();
    await kms?.close();
  });

  it("publishes the revocation unsigned at once and re-signs OCSP and CRL when the KMS recovers", async () => {
    const applied: EdgeRecord[] = [];
    const edge: EdgeClient = { async publish(b) { applied.push(...b.records); return ok({ applied: b.records.length, stale: 0 }); } };
    const p = new Publisher(o.services, edge, keyManagerSigners(o.services), { log: () => {} });
    const agents: string[] = [];
    const certs: { id: string; serial_number: string }[] = [];
    for (let i = 0; i < 3; i++) {
      agents.push((await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: `hang-${i}` }) })).body.data.id);
      const c = await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agents[i]}/certify`);
      expect(c.status, JSON.stringify(c.body)).toBe(201);
      certs.push(c.body.data);
    }
    for (let i = 0; i < 5 && !("error" in (await p.drainOnce())); i++);
    kms.setHang(true);
    for (const c of certs) expect((await o.json("POST", `/v1/certificates/${c.id}/revoke`, { body: { reason: "hsm hung" } })).status).toBe(200);
    const started = Date.now();
    applied.length = 0;
    const r = await p.drainOnce();
    const took = Date.now() - started;
    expect("error" in r).toBe(false);
    expect(took).toBeLessThan(8_000); // one 3 s deadline, not one per record (the first failure trips the guard)
    const revoked = applied.filter((x): x is CertStatusRecord => x.kind === "cert" && x.status === "revoked");
    expect(revoked.map((x) => x.serial_number).sort()).toEqual(certs.map((c) => c.serial_number).sort());
    expect(revoked.every((x) => x.ocsp_b64 === null)).toBe(true);
    expect(p.signers.owedCount()).toBeGreaterThanOrEqual(certs.length);
    // Still hung: the re-sign attempt fails within its deadline and keeps what it owes.
    expect((await p.signers.resignOnce()).outcome).toBe("failed");
    kms.setHang(false);
    expect((await p.signers.resignOnce()).outcome).toBe("idle");
    expect(p.signers.owedCount()).toBe(0);
    // The owed CRL carries the outage's revocations: a change, published first. The owed OCSP
    // responses are upkeep, behind any revocation made from now on.
    const queued = (await o.services.db.select().from(outbox)).filter((q) => q.deliveredAt === null);
    expect(queued.filter((q) => q.kind === "crl").length).toBeGreaterThan(0);
    expect(queued.filter((q) => q.kind === "crl").every((q) => !q.background)).toBe(true);
    expect(queued.filter((q) => q.kind === "cert").length).toBeGreaterThanOrEqual(certs.length);
    expect(queued.filter((q) => q.kind === "cert").every((q) => q.background)).toBe(true);
    applied.length = 0;
    for (let i = 0; i < 5; i++) if (!("pending" in (await p.drainOnce())) ) break;
    const resigned = applied.filter((x): x is CertStatusRecord => x.kind === "cert" && x.status === "revoked");
    expect(resigned.map((x) => x.serial_number).sort()).toEqual(certs.map((c) => c.serial_number).sort());
    expect(resigned.every((x) => x.ocsp_b64 !== null)).toBe(true);
    expect(applied.some((x) => x.kind === "crl")).toBe(true);
  }, 60_000);
});
