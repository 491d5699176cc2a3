import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { agentRec, certRec, enrolledAgent, env, nextV, publish } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

const randomSerial = () => certRec().serial_number;

/** An agent whose monitor holds state (it has posted), so adoption publishes its risk. */
async function scoredAgent() {
  const { cert, token } = await enrolledAgent();
  const posted = await exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({
      event_id: "x",
      timestamp: new Date(Date.now() - 1000).toISOString(),
      type: "tool_call",
      action: "payments.send",
      outcome: "success",
    }),
  });
  expect(posted.status).toBe(202);
  return cert;
}

/**
 * The agent's monitor adopted an agent record's current_serial (and a renewal's serials) before
 * the ledger's version check, so a record the ledger then refused as stale (an older version
 * arriving late, possible with two origins or a retried old batch) still added its serial to the
 * agent's risk serials: risk published under a serial that is not the agent's current one, and,
 * with only the last three kept, one of the serials gateways verify pushed out.
 */
describe("only records the ledger applies are adopted by the agent's monitor", () => {
  it("an older agent record arriving after a newer one: its current_serial gets no risk", async () => {
    const cert = await scoredAgent();
    const oldV = nextV();
    const current = randomSerial();
    expect((await publish([agentRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, current_serial: current })])).status).toBe(200);
    expect(await env.CERT_STATUS.get(`risk:${current}`)).not.toBeNull();
    const stale = randomSerial();
    const res = await publish([agentRec({ v: oldV, agent_id: cert.agent_id, tenant_id: cert.tenant_id, current_serial: stale })]);
    expect(res.status).toBe(200);
    expect((await res.json<{ data: { stale: number } }>()).data.stale).toBe(1);
    expect(await env.CERT_STATUS.get(`risk:${stale}`)).toBeNull();
  });

  it("an older renewal record arriving after a newer version of the same certificate: its successor gets no risk", async () => {
    const cert = await scoredAgent();
    const oldV = nextV();
    expect(
      (await publish([{ ...cert, v: nextV(), status: "revoked", revoked_at: new Date().toISOString(), revocation_reason: "key_compromise" }])).status,
    ).toBe(200);
    const successor = randomSerial();
    const overlapEnd = new Date(Date.now() + 86_400_000).toISOString();
    const res = await publish([{ ...cert, v: oldV, superseded_by: successor, superseded_at: overlapEnd }]);
    expect((await res.json<{ data: { stale: number } }>()).data.stale).toBe(1);
    expect(await env.CERT_STATUS.get(`risk:${successor}`)).toBeNull();
  });

  it("a batch of an older origin epoch (refused whole): its agent record's current_serial gets no risk", async () => {
    const cert = await scoredAgent();
    const withEpoch = (records: unknown[], n: number, id: string) => publish([], { body: JSON.stringify({ records, epoch: { n, id } }) });
    expect((await withEpoch([agentRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, current_serial: cert.serial_number })], 2, "new-db")).status).toBe(
      200,
    );
    const stale = randomSerial();
    const res = await withEpoch([agentRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, current_serial: stale })], 1, "old-db");
    expect((await res.json<{ data: { applied: number } }>()).data.applied).toBe(0);
    expect(await env.CERT_STATUS.get(`risk:${stale}`)).toBeNull();
  });

  it("a record the ledger applies is still adopted (its retry after a failed monitor: publish-monitor-failure.test.ts)", async () => {
    const cert = await scoredAgent();
    const rec = agentRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, current_serial: randomSerial() });
    expect((await publish([rec])).status).toBe(200);
    expect(await env.CERT_STATUS.get(`risk:${rec.current_serial}`)).not.toBeNull();
  });
});
