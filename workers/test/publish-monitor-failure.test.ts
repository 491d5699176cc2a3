import { reset, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { agentRec, certRec, enrolledAgent, env, nextV, publish, verify } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

type Proto = { acceptAsNormal: AgentMonitor["acceptAsNormal"]; adoptSerials: AgentMonitor["adoptSerials"] };

/**
 * Makes every agent monitor's feedback and adoption calls throw (RPC calls the class's methods:
 * the prototype's are swapped, as in ingest-monitor-failure.test.ts) until the returned function
 * puts them back. Only the broken agent's records in these tests call them.
 */
async function breakMonitors(agentId: string): Promise<() => Promise<void>> {
  const stub = env.AGENT_MONITOR.getByName(agentId);
  await runInDurableObject(stub, async (m: AgentMonitor) => {
    const proto = Object.getPrototypeOf(m) as Proto & { __real?: Proto };
    proto.__real = { acceptAsNormal: proto.acceptAsNormal, adoptSerials: proto.adoptSerials };
    const fail = async () => {
      throw new Error("SQLITE_FULL: database or disk is full");
    };
    proto.acceptAsNormal = fail;
    proto.adoptSerials = fail;
  });
  return async () => {
    await runInDurableObject(stub, async (m: AgentMonitor) => {
      const proto = Object.getPrototypeOf(m) as Proto & { __real?: Proto };
      Object.assign(proto, proto.__real);
      delete proto.__real;
    });
  };
}

interface V {
  data: { status: string; valid: boolean };
}
const strong = async (serial: string) => (await (await verify(serial, "?consistency=strong")).json<V>()).data;

describe("one agent's broken monitor during a publish", () => {
  it("does not hold back another agent's revocation in the same batch; the broken agent's new certificate waits for its monitor", async () => {
    const { cert: victim } = await enrolledAgent();
    const { cert: broken } = await enrolledAgent();
    const restore = await breakMonitors(broken.agent_id);
    try {
      const revoked = {
        ...victim,
        v: nextV(),
        status: "revoked" as const,
        revoked_at: new Date().toISOString(),
        revocation_reason: "key compromise",
        revocation_code: "keyCompromise",
      };
      const clear = {
        kind: "feedback" as const,
        v: nextV(),
        tenant_id: broken.tenant_id,
        agent_id: broken.agent_id,
        review_id: crypto.randomUUID(),
        event_ids: ["e-1"],
      };
      // A certificate issued to the broken agent (certify again): readable only with its risk.
      const next = certRec({ agent_id: broken.agent_id, tenant_id: broken.tenant_id, agent_urn: broken.agent_urn });
      const agent = agentRec({ agent_id: broken.agent_id, tenant_id: broken.tenant_id, current_serial: next.serial_number });
      const res = await publish([clear, revoked, next, agent]);
      // Not delivered as a whole: the origin holds the batch and sends it again.
      expect(res.status).toBe(503);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(res.headers.get("retry-after")).toBe("1");
      // It names the broken agents: the origin marks every other record delivered (publisher.ts),
      // so the broken agent's held rows never keep later rows from being claimed.
      // And what the ledger did with the rest (the ack a 200 carries), so an origin behind the
      // edge's epoch (a restored database) does not take the refused rest for applied.
      expect(await res.json<{ type: string; agent_ids?: string[]; ack?: { applied: number; stale: number } }>()).toMatchObject({
        type: "urn:kakunin:problem:monitor-unavailable",
        agent_ids: [broken.agent_id],
        ack: { applied: 2, stale: 0 },
      });
      // Before: the whole batch failed with 500, and the victim stayed active for as long as the
      // other agent's monitor stayed broken (every retry failed the same way).
      expect(await strong(victim.serial_number)).toMatchObject({ status: "revoked", valid: false });
      expect((await verify(next.serial_number, "?consistency=strong")).status).toBe(404);
      await restore();
      // The origin's retry: what was applied comes back stale, the held certificate is applied now.
      const again = await publish([clear, revoked, next, agent]);
      expect(again.status, await again.clone().text()).toBe(200);
      expect(await strong(next.serial_number)).toMatchObject({ status: "active", valid: true });
      expect(await strong(victim.serial_number)).toMatchObject({ status: "revoked", valid: false });
    } finally {
      await restore().catch(() => undefined);
    }
  });
});
