import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { CertStatusRecord } from "@kakunin/shared";
import { DEFAULT_TTL_MS } from "../src/verify/status-cache.ts";
import { agentRec, certRec, enrolledAgent, env, nextV, publish, verify } from "./fixtures.ts";

// The origin's refresher re-publishes every unexpired certificate every two days (its OCSP response
// is re-signed), superseded predecessors included, each still naming its successor. Those records
// must not take the agent's risk away from the serials that still verify.

afterEach(async () => {
  await reset();
});

interface V {
  data: { status: string; valid: boolean; reasons: { code: string }[]; risk: { band: string } };
}

/** A renewal as the origin publishes it; returns the predecessor as renewed, and the successor. */
async function renew(cert: CertStatusRecord): Promise<{ renewed: CertStatusRecord; next: CertStatusRecord }> {
  const next = certRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, agent_urn: cert.agent_urn });
  const renewed = { ...cert, v: nextV(), superseded_by: next.serial_number, superseded_at: new Date(Date.now() + 86_400_000).toISOString() };
  const res = await publish([renewed, next, agentRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, current_serial: next.serial_number })]);
  expect(res.status).toBe(200);
  return { renewed, next };
}

const gate = async (serial: string) => (await (await verify(serial, "?max_band=medium")).json<V>()).data;

describe("the agent's risk serials across the origin's re-publication of superseded certificates", () => {
  it("a review that clears a risky agent reaches its current certificate after superseded predecessors were re-published", async () => {
    const { cert, token } = await enrolledAgent();
    const posted = await exports.default.fetch("http://edge/v1/events", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      // An action no declared scope covers: high on its own.
      body: JSON.stringify({
        event_id: "x",
        timestamp: new Date(Date.now() - 1000).toISOString(),
        type: "tool_call",
        action: "payments.send",
        outcome: "success",
      }),
    });
    expect(posted.status).toBe(202);
    // Renewed three times, each overlap over by now (the origin's supersede job re-published them).
    const predecessors: CertStatusRecord[] = [];
    let current = cert;
    for (let i = 0; i < 3; i++) {
      const { renewed, next } = await renew(current);
      predecessors.push(renewed);
      current = next;
    }
    const past = new Date(Date.now() - 60_000).toISOString();
    for (const p of predecessors) expect((await publish([{ ...p, v: nextV(), status: "superseded", superseded_at: past }])).status).toBe(200);
    expect((await gate(current.serial_number)).risk.band).toBe("high");
    // Two days later: the refresher re-publishes them (re-signed OCSP responses) in the order its
    // query returns them, which has no ORDER BY: here the newest first.
    for (const p of [predecessors[2]!, predecessors[0]!, predecessors[1]!])
      expect((await publish([{ ...p, v: nextV(), status: "superseded", superseded_at: past }])).status).toBe(200);
    // A human clears the agent's alert: the monitor drops the risk and publishes it.
    const clear = {
      kind: "feedback" as const,
      v: nextV(),
      tenant_id: cert.tenant_id,
      agent_id: cert.agent_id,
      review_id: crypto.randomUUID(),
      event_ids: ["x"],
    };
    expect((await publish([clear])).status).toBe(200);
    await new Promise((r) => setTimeout(r, DEFAULT_TTL_MS + 5));
    // Gateways verify the certificate the agent uses now: the cleared agent must pass max_band=medium.
    expect(JSON.parse((await env.CERT_STATUS.get(`risk:${current.serial_number}`)) ?? "{}").band).toBe("low");
    expect(await gate(current.serial_number)).toMatchObject({ status: "active", valid: true, reasons: [] });
  });
});
