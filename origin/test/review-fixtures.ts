import { decideRisk } from "../src/internal/decide-risk.ts";
import { agentBody, type TestOrigin } from "./harness.ts";

/**
 * A new agent of the origin's tenant with an active certificate, under a flag-only policy
 * (auto_revoke off: it stays in the review queue however often it goes high), and `alert(id, at)`:
 * the edge's risk alert about it (out of scope, 0.93), decided as the internal route decides one.
 */
export async function flaggableAgent(o: TestOrigin) {
  const policy = await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } });
  if (policy.status !== 200) throw new Error(`PATCH /v1/tenant/policy answered ${policy.status}`);
  const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
  const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
  const serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
  const alert = (id: string, at = new Date()) =>
    decideRisk(o.services, {
      alert_id: id,
      agent_id: agent,
      tenant_id: tenant,
      serial_number: serial,
      score: 0.93,
      reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "action 'payments.send' is not covered" }],
      event_ids: [id],
      triggered_at: at.toISOString(),
    });
  return { agent, alert };
}
