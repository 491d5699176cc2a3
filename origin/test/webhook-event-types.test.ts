import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * `event_types` is a set: a type given twice is stored, shown and audited once, in the order
 * first given (it was stored twice; one delivery went out either way, but the view and the
 * audit entry showed the repeat).
 */
describe("webhook event_types", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite", { env: { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1" } });
  });
  afterAll(async () => {
    await o.close();
  });

  it("a type given twice is kept once", async () => {
    const types = ["io.kakunin.certificate.revoked", "io.kakunin.certificate.renewed", "io.kakunin.certificate.revoked"];
    const r = await o.json<{ data: { id: string; event_types: string[] } }>("POST", "/v1/tenant/webhooks", {
      body: { url: "http://127.0.0.1:9/hook", event_types: types },
    });
    expect(r.status).toBe(201);
    expect(r.body.data.event_types).toEqual(["io.kakunin.certificate.revoked", "io.kakunin.certificate.renewed"]);
    const listed = await o.json<{ data: { id: string; event_types: string[] }[] }>("GET", "/v1/tenant/webhooks");
    expect(listed.body.data.find((w) => w.id === r.body.data.id)?.event_types).toEqual(["io.kakunin.certificate.revoked", "io.kakunin.certificate.renewed"]);
  });
});
