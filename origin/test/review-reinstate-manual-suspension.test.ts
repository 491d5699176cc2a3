import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideRisk } from "../src/internal/decide-risk.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * `reinstate` lifts a suspension the risk monitor made (or a review confirmed): the flag was a false
 * positive. It checked only that the agent was suspended, so a flagged agent whose certificate was
 * then revoked by hand for key compromise (an ordinary suspension, still in the queue under its open
 * flag) was set active again by a decision about risk, audited as `agent.suspension_lifted` with the
 * reviewer's "false positive" as the reason. That suspension is not the review's to lift: reinstate
 * is a 409 there, `clear` closes the flag and leaves the agent suspended, and certifying (after the
 * investigation) lifts it, as for any ordinary suspension.
 */
describe.each(dbKinds())("review reinstate on an agent suspended by hand on %s", (kind) => {
  let o: TestOrigin;
  let tenant = "";
  beforeAll(async () => {
    o = await startTestOrigin(kind);
    tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
  });
  afterAll(async () => {
    await o.close();
  });

  const flag = async (agent: string, serial: string, at = new Date()) =>
    decideRisk(o.services, {
      alert_id: `al-${agent}-${at.getTime()}`,
      agent_id: agent,
      tenant_id: tenant,
      serial_number: serial,
      score: 0.9,
      reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "action 'payments.send' is not covered" }],
      event_ids: [],
      triggered_at: at.toISOString(),
    });

  it("flagged, then revoked by hand for key compromise: reinstate is 409 and changes nothing; clear closes the flag", async () => {
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } })).status).toBe(200);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const c = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    expect((await flag(agent, c.serial_number))?.decision).toBe("flagged");
    const revoked = await o.json("POST", `/v1/certificates/${c.id}/revoke`, { body: { reason: "keyCompromise" } });
    expect(revoked.status).toBe(200);
    expect((await o.json("GET", `/v1/agents/${agent}`)).body).toMatchObject({ data: { status: "suspended" } });

    const entries = async () => (await o.json<{ data: unknown[] }>("GET", `/v1/audit/entries?agent_id=${agent}&limit=1000`)).body.data.length;
    const before = await entries();
    const r = await o.json<{ type: string; detail: string }>("POST", `/v1/agents/${agent}/review`, {
      body: { decision: "reinstate", reason: "false positive" },
    });
    expect(r.status).toBe(409);
    expect(r.body.detail).toMatch(/not by the risk monitor/);
    expect((await o.json("GET", `/v1/agents/${agent}`)).body).toMatchObject({ data: { status: "suspended" } });
    expect(await entries()).toBe(before);
    const queue = await o.json<{ data: { agent_id: string }[] }>("GET", "/v1/reviews?limit=200");
    expect(queue.body.data.some((i) => i.agent_id === agent)).toBe(true);

    // The flag itself is still a reviewer's to close: clear, and the agent stays suspended.
    const clear = await o.json<{ data: { agent_status: string } }>("POST", `/v1/agents/${agent}/review`, {
      body: { decision: "clear", reason: "false positive" },
    });
    expect(clear.status).toBe(200);
    expect(clear.body.data.agent_status).toBe("suspended");
  });

  it("auto-revoked, re-certified by an admin, then revoked by hand: reinstate is 409 too (the latest suspension is manual)", async () => {
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: true } })).status).toBe(200);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const c = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    expect((await flag(agent, c.serial_number))?.decision).toBe("revoked");
    const again = await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`, { body: { reason: "investigating" } });
    expect(again.status).toBe(201);
    expect((await o.json("POST", `/v1/certificates/${again.body.data.id}/revoke`, { body: { reason: "keyCompromise" } })).status).toBe(200);
    const r = await o.json("POST", `/v1/agents/${agent}/review`, { body: { decision: "reinstate", reason: "false positive" } });
    expect(r.status).toBe(409);
    expect((await o.json("GET", `/v1/agents/${agent}`)).body).toMatchObject({ data: { status: "suspended" } });
  });

  it("a risk suspension is still reinstated", async () => {
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: true } })).status).toBe(200);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const c = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    expect((await flag(agent, c.serial_number))?.decision).toBe("revoked");
    const r = await o.json<{ data: { agent_status: string } }>("POST", `/v1/agents/${agent}/review`, {
      body: { decision: "reinstate", reason: "false positive" },
    });
    expect(r.status).toBe(200);
    expect(r.body.data.agent_status).toBe("active");
  });
});
