import { reset, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { DEFAULT_TTL_MS } from "../src/verify/status-cache.ts";
import { agentRec, certRec, enrolledAgent, env, nextV, publish, verify } from "./fixtures.ts";

// The agent's risk belongs to the agent (one AgentMonitor per agent), not to one certificate: a
// renewal must not hand a risky agent a serial that gateways with ?max_band= / maxBand read as low.

afterEach(async () => {
  await reset();
});

interface V {
  data: { status: string; valid: boolean; reasons: { code: string }[]; risk: { score: number; band: string } };
}

/** What the origin publishes for a renewal: the predecessor valid for an overlap, its successor, the agent's new current serial. */
async function renew(cert: ReturnType<typeof certRec>) {
  const next = certRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, agent_urn: cert.agent_urn });
  const overlapEnd = new Date(Date.now() + 86_400_000).toISOString();
  const res = await publish([
    { ...cert, v: nextV(), superseded_by: next.serial_number, superseded_at: overlapEnd },
    { ...next, v: nextV() },
    agentRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, current_serial: next.serial_number }),
  ]);
  expect(res.status).toBe(200);
  return next;
}

let n = 0;
const ev = (action: string) => ({
  event_id: `e-${++n}`,
  timestamp: new Date(Date.now() - 1000).toISOString(),
  type: "tool_call",
  action,
  resource: `orders/${n}`,
  outcome: "success",
  latency_ms: 120,
});

const post = async (token: string, events: unknown[]) => {
  const r = await exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ events }),
  });
  expect(r.status, await r.clone().text()).toBe(202);
};

const gate = async (serial: string) => (await (await verify(serial, "?max_band=medium")).json<V>()).data;

describe("an agent's risk across a certificate renewal", () => {
  it("a high-risk agent renewed: its successor is refused by max_band=medium at once, before the agent posts again", async () => {
    const { cert, token } = await enrolledAgent();
    // An action no declared scope covers is high on its own (policy, full weight from the first event).
    await post(token, [ev("orders.place"), ev("payments.refund")]);
    expect((await gate(cert.serial_number)).reasons.map((r) => r.code)).toEqual(["risk_too_high"]);
    const next = await renew(cert);
    const successor = await gate(next.serial_number);
    expect(successor.status).toBe("active");
    expect(successor.risk.band).toBe("high");
    expect(successor.valid).toBe(false);
    expect(successor.reasons.map((r) => r.code)).toEqual(["risk_too_high"]);
  });

  it("risk raised after the renewal reaches the predecessor too, which stays valid through its overlap", async () => {
    const { cert, token } = await enrolledAgent();
    await post(token, [ev("orders.place")]);
    const next = await renew(cert);
    // The token follows the renewal: these events are the successor's.
    await post(token, [ev("orders.place"), ev("payments.refund")]);
    expect((await gate(next.serial_number)).reasons.map((r) => r.code)).toEqual(["risk_too_high"]);
    const predecessor = await gate(cert.serial_number);
    expect(predecessor.status).toBe("active");
    expect(predecessor.risk.band).toBe("high");
    expect(predecessor.reasons.map((r) => r.code)).toEqual(["risk_too_high"]);
  });

  it("a low-risk agent's renewal changes nothing: the successor verifies; an agent that never posted gets no monitor state", async () => {
    const { cert, token } = await enrolledAgent();
    await post(token, [ev("orders.place")]);
    const next = await renew(cert);
    await new Promise((r) => setTimeout(r, DEFAULT_TTL_MS + 5));
    expect(await gate(next.serial_number)).toMatchObject({ valid: true, reasons: [] });
    const quiet = certRec();
    await publish([quiet, agentRec({ agent_id: quiet.agent_id, tenant_id: quiet.tenant_id, current_serial: quiet.serial_number })]);
    const quietNext = await renew(quiet);
    expect(await gate(quietNext.serial_number)).toMatchObject({ valid: true, reasons: [] });
    const rows = await runInDurableObject(
      env.AGENT_MONITOR.getByName(quiet.agent_id),
      async (_m: AgentMonitor, state) => state.storage.sql.exec("SELECT k FROM meta").toArray().length,
    );
    expect(rows).toBe(0);
  });

  it("a risky agent revoked and certified again (no renewal): its new certificate is refused by max_band=medium at once", async () => {
    const { cert, token } = await enrolledAgent();
    await post(token, [ev("orders.place"), ev("payments.refund")]);
    expect((await gate(cert.serial_number)).risk.band).toBe("high");
    // What the origin publishes for a revocation (agent suspended), then for a new certificate
    // (certify with a reason by an admin, no review): the new serial names no predecessor.
    const at = new Date().toISOString();
    await publish([
      { ...cert, v: nextV(), status: "revoked", revoked_at: at, revocation_reason: "compliance review", agent_status: "suspended" },
      agentRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, status: "suspended", current_serial: null }),
    ]);
    const next = certRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, agent_urn: cert.agent_urn });
    const res = await publish([next, agentRec({ agent_id: cert.agent_id, tenant_id: cert.tenant_id, current_serial: next.serial_number })]);
    expect(res.status).toBe(200);
    const fresh = await gate(next.serial_number);
    expect(fresh.status).toBe("active");
    expect(fresh.risk.band).toBe("high");
    expect(fresh.valid).toBe(false);
    expect(fresh.reasons.map((r) => r.code)).toEqual(["risk_too_high"]);
  });

  it("the risk follows at most the last 3 serials of an agent renewed again and again", async () => {
    const { cert, token } = await enrolledAgent();
    await post(token, [ev("payments.refund")]);
    let current = cert;
    const serials = [cert.serial_number];
    for (let i = 0; i < 4; i++) {
      current = await renew(current);
      serials.push(current.serial_number);
    }
    const kept = await runInDurableObject(
      env.AGENT_MONITOR.getByName(cert.agent_id),
      async (_m: AgentMonitor, state) => JSON.parse(state.storage.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'serials'").one().v) as string[],
    );
    expect(kept).toEqual(serials.slice(-3));
    for (const s of serials.slice(-3)) expect(await env.CERT_STATUS.get(`risk:${s}`), s).not.toBeNull();
  });
});
