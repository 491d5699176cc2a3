import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { riskDecisions, webhookDeliveries } from "../src/db/schema.ts";
import { decideRisk } from "../src/internal/decide-risk.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * The edge re-sends a risk alert it got no answer for, possibly while the origin is still deciding
 * the first copy. The "already decided?" read ran before the agent's row lock, so the second copy
 * read nothing, waited for the lock, decided again and failed on the alert id's unique index: an
 * internal 500 for a retry (PostgreSQL; PGlite runs one transaction at a time). Both copies must
 * answer the one decision, with one set of webhooks.
 */
describe.each(dbKinds())("a risk alert delivered twice at once on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind, { env: { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1" } });
  });
  afterAll(async () => {
    await o.close();
  });

  it("is decided once: both copies answer the decision, one row, one review_required webhook", async () => {
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } })).status).toBe(200);
    expect((await o.json("POST", "/v1/tenant/webhooks", { body: { url: "http://127.0.0.1:9/never" } })).status).toBe(201);
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    for (let round = 0; round < 5; round++) {
      const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
      const c = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
      const alert = {
        alert_id: `al-${agent}`,
        agent_id: agent,
        tenant_id: tenant,
        serial_number: c.serial_number,
        score: 0.93,
        reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "action 'payments.send' is not covered" }],
        event_ids: [],
        triggered_at: new Date().toISOString(),
      };
      const both = await Promise.allSettled([decideRisk(o.services, alert), decideRisk(o.services, alert)]);
      expect(both.map((r) => (r.status === "fulfilled" ? r.value?.decision : String(r.reason)))).toEqual(["flagged", "flagged"]);
      expect(await o.services.db.select().from(riskDecisions).where(eq(riskDecisions.agentId, agent))).toHaveLength(1);
      const hooks = await o.services.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.agentId, agent));
      expect(hooks.map((h) => h.eventType).sort()).toEqual(["io.kakunin.agent.review_required", "io.kakunin.agent.risk.high"]);
    }
  }, 60_000);
});
