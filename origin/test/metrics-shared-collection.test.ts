import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * GET /metrics needs no credential unless KAKUNIN_METRICS_TOKEN is set, and one collection is a
 * dozen SQL queries. Scrapes that arrive while a collection runs share it; a scrape after it
 * settled collects again (nothing stale is served).
 */
describe("GET /metrics: concurrent scrapes share one collection", () => {
  let o: TestOrigin;
  let collections = 0;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
    const registry = o.services.metrics.registry;
    const real = registry.metrics.bind(registry);
    registry.metrics = async () => {
      collections++;
      // A collection on a busy database takes a while: the scrapes overlap.
      await new Promise((r) => setTimeout(r, 200));
      return real();
    };
  });
  afterAll(async () => {
    await o.close();
  });

  it("20 concurrent anonymous scrapes: one collection, every answer whole; the next scrape collects anew", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => o.request("GET", "/metrics", { key: null })));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(await a.text()).toContain("kakunin_http_requests_total");
    }
    expect(collections).toBe(1);
    // Sequential scrapes see fresh values: the counter of the 20 scrapes above is in the next one.
    const next = await (await o.request("GET", "/metrics", { key: null })).text();
    expect(collections).toBe(2);
    expect(next).toMatch(/kakunin_http_requests_total\{[^}]*route="\/metrics"[^}]*status="200"[^}]*\} 20/);
  });
});
