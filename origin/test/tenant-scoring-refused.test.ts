import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { err, ok, type PublishBatch } from "@kakunin/shared";
import type { EdgeClient } from "../src/publish/edge-client.ts";
import { Publisher } from "../src/publish/publisher.ts";
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
    o = await startTestOrigin(kind);
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
});
