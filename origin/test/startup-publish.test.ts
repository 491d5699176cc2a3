import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { err, ok, type CrlRecord, type PublishAck, type PublishBatch, type Result } from "@kakunin/shared";
import { outbox } from "../src/db/schema.ts";
import type { EdgeRefusal } from "../src/publish/edge-client.ts";
import { Publisher } from "../src/publish/publisher.ts";
import { Refresher } from "../src/publish/refresher.ts";
import { keyManagerSigners } from "../src/publish/signers.ts";
import { publishBeforeListening } from "../src/publish/startup-publish.ts";
import { dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

type Answer = Promise<Result<PublishAck, string | EdgeRefusal>>;

/**
 * main.ts waits, before it listens, for the edge to take the CRLs (and the CA chains they carry)
 * that the start queued, so that once `pnpm start` answers /healthz the edge serves /v1/ca and
 * /v1/crl (test/start-ready.e2e.test.ts drives the real thing). The wait must never keep the origin
 * from listening: an unreachable edge ends it at the first attempt, a hung one at the bound.
 */
describe.each(dbKinds())("publish before listening on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
    const tenant = (await o.json<{ data: { id: string; name: string } }>("GET", "/v1/tenant")).body.data;
    // As main.ts does before the publisher starts: the root and the default tenant's issuing CA.
    expect((await o.services.ca.issuingFor(tenant)).ok).toBe(true);
  });
  afterAll(async () => {
    await o.close();
  });

  /** main.ts's order: the publisher, the refresher (whose first run queues every CRL), then the wait. */
  async function boot(publish: (batch: PublishBatch) => Answer, timeoutMs: number, waited = () => {}) {
    const p = new Publisher(o.services, { publish }, keyManagerSigners(o.services));
    o.services.publisher = p;
    const refresher = new Refresher(o.services);
    p.start();
    refresher.start();
    try {
      return await publishBeforeListening(o.services, refresher, timeoutMs);
    } finally {
      waited();
      await refresher.stop();
      await p.stop();
      o.services.publisher = undefined;
    }
  }

  const pendingCrls = async () =>
    (
      await o.services.db
        .select()
        .from(outbox)
        .where(and(eq(outbox.kind, "crl"), isNull(outbox.deliveredAt)))
    ).length;

  it("an edge that answers holds the operator tenant's CRL and CA chain, and the root's CRL, when the wait ends", async () => {
    const records: CrlRecord[] = [];
    const outcome = await boot(async (batch) => {
      for (const r of batch.records) if (r.kind === "crl") records.push(r);
      return ok({ applied: batch.records.length, stale: 0 });
    }, 600_000);
    expect(outcome).toBe("published");
    expect(await pendingCrls()).toBe(0);
    const byTenant = new Map(records.map((r) => [r.tenant_id, r]));
    expect(byTenant.get("default")?.chain_pem.match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
    expect(byTenant.get("default")?.crl_b64).toBeTruthy();
    expect(byTenant.get("root")?.crl_b64).toBeTruthy();
  });

  it("an unreachable edge ends the wait at the first attempt, not at the bound; the CRLs stay queued", async () => {
    // A bound no test could wait out: only "unreachable" ends this wait.
    const outcome = await boot(async () => err("edge unreachable: connect ECONNREFUSED"), 600_000);
    expect(outcome).toBe("unreachable");
    expect(await pendingCrls()).toBeGreaterThan(0);
  });

  it("an edge that accepts and never answers ends the wait at the bound", async () => {
    let release: () => void = () => {};
    const hung = new Promise<void>((r) => (release = r));
    const outcome = await boot(
      async () => {
        await hung;
        return err("edge unreachable: timed out");
      },
      300,
      () => release(),
    );
    expect(outcome).toBe("timeout");
  });
});
