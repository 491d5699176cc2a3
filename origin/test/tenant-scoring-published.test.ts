import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { err, ok } from "@kakunin/shared";
import type { EdgeClient } from "../src/publish/edge-client.ts";
import { Publisher } from "../src/publish/publisher.ts";
import { keyManagerSigners } from "../src/publish/signers.ts";
import { dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * A scoring change reaches the monitors through the outbox; when the edge is down the publisher
 * retries until it answers. The tenant's admin must be able to tell a change in force at the edge
 * from one still waiting (GET /v1/tenant/scoring `published`), not only an operator reading
 * /metrics or /readyz.
 */
describe.each(dbKinds())("GET /v1/tenant/scoring published on %s", (kind) => {
  let o: TestOrigin;
  let up = false;
  const edge: EdgeClient = {
    async publish(b) {
      return up ? ok({ applied: b.records.length, stale: 0 }) : err("edge unreachable (connection refused)");
    },
  };
  const drain = async () => {
    const p = new Publisher(o.services, edge, keyManagerSigners(o.services));
    for (let i = 0; i < 10; i++) {
      const d = await p.drainOnce();
      if ("error" in d || !d.pending) return;
    }
  };
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("is false while the edge has not acknowledged the change, true once it has", async () => {
    await drain();
    up = true;
    await drain();
    up = false;
    const patch = await o.json<{ data: { published: boolean } }>("PATCH", "/v1/tenant/scoring", { body: { weights: { latency: 0 } } });
    expect(patch.status).toBe(200);
    expect(patch.body.data.published).toBe(false);
    await drain();
    expect((await o.json<{ data: { published: boolean } }>("GET", "/v1/tenant/scoring")).body.data.published).toBe(false);
    up = true;
    await drain();
    expect((await o.json<{ data: { published: boolean } }>("GET", "/v1/tenant/scoring")).body.data.published).toBe(true);
  });
});
