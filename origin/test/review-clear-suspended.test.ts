import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideRisk } from "../src/internal/decide-risk.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * `clear` on an agent the risk policy auto-revoked closed its decisions and left it suspended: the
 * agent left the queue, and the `reinstate` the docs point to was then 409 nothing-to-review. A
 * suspended agent's false positive is a reinstate; clear is refused there, naming the choices.
 */
describe.each(dbKinds())("POST /v1/agents/:id/review clear on an auto-revoked agent on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("is a 409 that changes nothing; reinstate still works", async () => {
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: true } })).status).toBe(200);
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const c = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const reasons = [{ feature: "out_of_scope", contribution: 0.9, detail: "action 'payments.send' is not covered" }];
    const d = await decideRisk(o.services, {
      alert_id: `al-${agent}`,
      agent_id: agent,
      tenant_id: tenant,
      serial_number: c.serial_number,
      score: 0.93,
      reasons,
      event_ids: [],
      triggered_at: new Date().toISOString(),
    });
    expect(d?.decision).toBe("revoked");
    const clear = await o.json<{ type: string; detail: string }>("POST", `/v1/agents/${agent}/review`, {
      body: { decision: "clear", reason: "false positive" },
    });
    expect(clear.status).toBe(409);
    expect(clear.body.detail).toMatch(/reinstate/);
    const queue = await o.json<{ data: { agent_id: string }[] }>("GET", "/v1/reviews?limit=200");
    expect(queue.body.data.some((i) => i.agent_id === agent)).toBe(true);
    const reinstate = await o.json<{ data: { agent_status: string } }>("POST", `/v1/agents/${agent}/review`, {
      body: { decision: "reinstate", reason: "false positive" },
    });
    expect(reinstate.status).toBe(200);
    expect(reinstate.body.data.agent_status).toBe("active");
  });
});
