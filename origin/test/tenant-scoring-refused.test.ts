import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { err, ok, type PublishBatch } from "@kakunin/shared";
import { ManualClock } from "../src/clock.ts";
import type { EdgeClient } from "../src/publish/edge-client.ts";
import { Publisher } from "../src/publish/publisher.ts";
import { OUTBOX_RETENTION_MS, Refresher } from "../src/publish/refresher.ts";
import { keyManagerSigners } from "../src/publish/signers.ts";
import { dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * A scoring record the edge refuses (422: an edge older than a feature the origin's scorer gained,
 * during a rolling deploy, or any validator disagreement) is dead-lettered and its outbox row marked
 * handled, so the publisher never retries it on its own. The tenant's admin reads
 * `published` to know whether the thresholds and weights they set are in force at the edge: it
 * said true, though the edge still scored with the previous configuration.
 */
describe.each(dbKinds())("GET /v1/tenant/scoring published after the edge refused the record, on %s", (kind) => {
  let o: TestOrigin;
  let refuseScoring = true;
  const clock = new ManualClock(new Date("2026-06-01T00:00:00Z"));
  const edge: EdgeClient = {
    async publish(b: PublishBatch) {
      if (refuseScoring && b.records.some((r) => r.kind === "scoring")) {
        return err({ status: 422, body: '{"type":"urn:kakunin:problem:validation-failed","status":422}' });
      }
      return ok({ applied: b.records.length, stale: 0 });
    },
  };
  const drain = async () => {
    const p = new Publisher(o.services, edge, keyManagerSigners(o.services));
    for (let i = 0; i < 10; i++) {
      const d = await p.drainOnce();
      if ("error" in d || !d.pending) return;
    }
  };
  const published = async (): Promise<boolean> => (await o.json<{ data: { published: boolean } }>("GET", "/v1/tenant/scoring")).body.data.published;

  beforeAll(async () => {
    o = await startTestOrigin(kind, { clock });
    refuseScoring = false;
    await drain();
    refuseScoring = true;
  });
  afterAll(async () => {
    await o.close();
  });

  it("stays false while the change is a dead letter, and turns true once a replay or a later change reaches the edge", async () => {
    expect((await o.json("PATCH", "/v1/tenant/scoring", { body: { weights: { latency: 0 } } })).status).toBe(200);
    await drain();
    const letters = await o.json<{ data: { id: string; kind: string; ref: string }[] }>("GET", "/v1/admin/dead-letters");
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const letter = letters.body.data.find((l) => l.kind === "publish" && l.ref === `scoring:${tenant}`);
    expect(letter).toBeDefined();
    // The edge never applied it: the admin must not be told it is in force.
    expect(await published()).toBe(false);

    // Replayed once the edge takes it (the deploy completed): in force.
    refuseScoring = false;
    expect((await o.json("POST", `/v1/admin/dead-letters/${letter!.id}/replay`)).status).toBe(200);
    await drain();
    expect(await published()).toBe(true);

    // Refused again, then superseded by a later change the edge takes (the record carries the
    // whole configuration): in force, with nothing to replay.
    refuseScoring = true;
    expect((await o.json("PATCH", "/v1/tenant/scoring", { body: { weights: { latency: 2 } } })).status).toBe(200);
    await drain();
    expect(await published()).toBe(false);
    refuseScoring = false;
    expect((await o.json("PATCH", "/v1/tenant/scoring", { body: { weights: { latency: 3 } } })).status).toBe(200);
    await drain();
    expect(await published()).toBe(true);
  });

  it("another tenant's refused record does not make this tenant's unpublished", async () => {
    refuseScoring = false;
    await drain();
    const other = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `refused-other-${kind}` } })).body.data
      .admin_api_key;
    refuseScoring = true;
    expect((await o.json("PATCH", "/v1/tenant/scoring", { key: other, body: { weights: { latency: 0 } } })).status).toBe(200);
    await drain();
    expect((await o.json<{ data: { published: boolean } }>("GET", "/v1/tenant/scoring", { key: other })).body.data.published).toBe(false);
    expect(await published()).toBe(true);
  });

  it("a refused change superseded by one the edge took stays published once the delivered rows are pruned; one not superseded stays unpublished", async () => {
    refuseScoring = false;
    await drain();
    const admin = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `refused-pruned-${kind}` } })).body.data
      .admin_api_key;
    const get = async (): Promise<boolean> => (await o.json<{ data: { published: boolean } }>("GET", "/v1/tenant/scoring", { key: admin })).body.data.published;
    const patch = async (latency: number) =>
      expect((await o.json("PATCH", "/v1/tenant/scoring", { key: admin, body: { weights: { latency } } })).status).toBe(200);
    const prune = async () => {
      clock.advance(OUTBOX_RETENTION_MS + 60_000);
      await new Refresher(o.services).runOnce();
    };
    refuseScoring = true;
    await patch(0);
    await drain();
    expect(await get()).toBe(false);
    refuseScoring = false;
    await patch(4);
    await drain();
    expect(await get()).toBe(true);
    // A month on, the delivered rows are pruned (refresher.ts). Before, with no row left to compare
    // the letter with, the superseded letter counted again: published false for good, though the
    // edge has applied the tenant's newest configuration and there is nothing to replay.
    await prune();
    expect(await get()).toBe(true);
    // The other way round: a refused change that is the newest stays unpublished after the prune.
    refuseScoring = true;
    await patch(5);
    await drain();
    refuseScoring = false;
    await prune();
    expect(await get()).toBe(false);
  });
});
