import { reset, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { agentRec, certRec, enrolledAgent, env, nextV, publish, verify } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

type Proto = { acceptAsNormal: AgentMonitor["acceptAsNormal"] };

/** How long the slow monitor takes: longer than the origin waits for a publish (5 s), far longer than this test's budget. */
const SLOW_MS = 25_000;

/**
 * Makes every agent monitor's feedback call answer only after SLOW_MS (as a monitor does whose
 * agent keeps it busy with batch after batch: RPC calls queue behind them). The prototype's method
 * is swapped, as in publish-monitor-failure.test.ts; only the slow agent's record calls it.
 */
async function slowMonitors(agentId: string): Promise<() => Promise<void>> {
  const stub = env.AGENT_MONITOR.getByName(agentId);
  await runInDurableObject(stub, async (m: AgentMonitor) => {
    const proto = Object.getPrototypeOf(m) as Proto & { __real?: Proto };
    proto.__real = { acceptAsNormal: proto.acceptAsNormal };
    proto.acceptAsNormal = async () => {
      await new Promise((r) => setTimeout(r, SLOW_MS));
      return { applied: true };
    };
  });
  return async () => {
    await runInDurableObject(stub, async (m: AgentMonitor) => {
      const proto = Object.getPrototypeOf(m) as Proto & { __real?: Proto };
      if (proto.__real) Object.assign(proto, proto.__real);
      delete proto.__real;
    });
  };
}

interface V {
  data: { status: string; valid: boolean };
}

/**
 * Feedback (a review's clear) and renewals reach agents' monitors inside the origin's publish
 * delivery, before the batch's other records are applied; every tenant's revocations travel in
 * those batches. The origin waits at most 5 s for the answer and then sends the batch again, so a
 * monitor that answered late (its agent keeping it busy) held the whole batch back, retry after
 * retry: a failure was already isolated to its agent (publish-monitor-failure.test.ts), slowness
 * was not.
 */
describe("one agent's slow monitor during a publish", () => {
  it("does not hold back another agent's revocation in the same batch: the slow agent is named for the retry", async () => {
    const { cert: victim } = await enrolledAgent();
    const { cert: slow } = await enrolledAgent();
    const restore = await slowMonitors(slow.agent_id);
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
        tenant_id: slow.tenant_id,
        agent_id: slow.agent_id,
        review_id: crypto.randomUUID(),
        event_ids: ["e-1"],
      };
      const res = await publish([clear, revoked]);
      expect(res.status).toBe(503);
      expect(await res.json<{ type: string; agent_ids?: string[]; ack?: { applied: number } }>()).toMatchObject({
        type: "urn:kakunin:problem:monitor-unavailable",
        agent_ids: [slow.agent_id],
        ack: { applied: 1 },
      });
      expect((await (await verify(victim.serial_number, "?consistency=strong")).json<V>()).data).toMatchObject({ status: "revoked", valid: false });
    } finally {
      await restore();
    }
  }, 15_000);
});

/**
 * As slowMonitors, but only the named agent's monitor is slow (the object's name is its agent id);
 * every other monitor keeps its real feedback and adoption.
 */
async function slowOnly(agentId: string): Promise<() => Promise<void>> {
  const stub = env.AGENT_MONITOR.getByName(agentId);
  await runInDurableObject(stub, async (m: AgentMonitor) => {
    const proto = Object.getPrototypeOf(m) as Proto & { __real?: Proto };
    const real = (proto.__real = { acceptAsNormal: proto.acceptAsNormal });
    proto.acceptAsNormal = async function (this: AgentMonitor, ...args: Parameters<AgentMonitor["acceptAsNormal"]>) {
      if ((this as unknown as { ctx: DurableObjectState }).ctx.id.name !== agentId) return real.acceptAsNormal.apply(this, args);
      await new Promise((r) => setTimeout(r, SLOW_MS));
      return { applied: true };
    };
  });
  return async () => {
    await runInDurableObject(stub, async (m: AgentMonitor) => {
      const proto = Object.getPrototypeOf(m) as Proto & { __real?: Proto };
      if (proto.__real) Object.assign(proto, proto.__real);
      delete proto.__real;
    });
  };
}

/**
 * The 2 s were one budget for the whole batch, spent one call after another: once a slow monitor
 * (an agent that keeps its own monitor busy, whose review was cleared) had used it up, every later
 * monitor call of the batch failed without being made, so every other agent's review clear and new
 * certificate in the batch (any tenant's) was held and named for the retry, and each retry met the
 * slow monitor first again.
 */
describe("one agent's slow monitor during a publish, beside other agents' monitor calls", () => {
  it("holds back only its own agent: another agent's clear and another agent's new certificate are applied", async () => {
    const { cert: slow } = await enrolledAgent();
    const { cert: reviewed } = await enrolledAgent();
    const { cert: renewed } = await enrolledAgent();
    const restore = await slowOnly(slow.agent_id);
    try {
      const clear = (c: typeof slow) => ({
        kind: "feedback" as const,
        v: nextV(),
        tenant_id: c.tenant_id,
        agent_id: c.agent_id,
        review_id: crypto.randomUUID(),
        event_ids: ["e-1"],
      });
      // A certificate issued to a third agent (certify again), and the agent record naming it.
      const next = certRec({ agent_id: renewed.agent_id, tenant_id: renewed.tenant_id, agent_urn: renewed.agent_urn });
      const agent = agentRec({ agent_id: renewed.agent_id, tenant_id: renewed.tenant_id, current_serial: next.serial_number });
      const res = await publish([clear(slow), clear(reviewed), next, agent]);
      expect(res.status).toBe(503);
      expect(await res.json<{ agent_ids?: string[]; ack?: { applied: number } }>()).toMatchObject({ agent_ids: [slow.agent_id], ack: { applied: 3 } });
      expect((await (await verify(next.serial_number, "?consistency=strong")).json<V>()).data).toMatchObject({ status: "active", valid: true });
    } finally {
      await restore();
    }
  }, 15_000);
});
