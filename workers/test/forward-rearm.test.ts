import { reset, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env } from "./fixtures.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

const ev = (i: number) => ({
  event_id: `e-${i}`,
  timestamp: new Date(Date.now() - 60_000 + i * 10).toISOString(),
  type: "tool_call",
  action: "orders.place",
  resource: `orders/${i}`,
  amount: 100,
  currency: "EUR",
  outcome: "success",
  latency_ms: 120,
});

const post = (token: string, body: unknown) =>
  exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });

interface Outcome {
  data: { accepted: number; duplicates: number };
}

describe("events committed while the monitor failed before arming its alarm", () => {
  it("the agent's retry (all duplicates, 202) arms forwarding, so acknowledged events reach the origin", async () => {
    const { cert, token } = await enrolledAgent();
    const stub = env.AGENT_MONITOR.getByName(cert.agent_id);
    // The batch commits, then the object fails before its alarm is set (a reset for a deploy, a
    // storage error at the await): the agent gets an error, not a 202, and sends the batch again.
    const committed = await runInDurableObject(stub, async (m: AgentMonitor, state) => {
      const patched = m as unknown as { scheduleForwarding?: () => Promise<void> };
      patched.scheduleForwarding = async () => {
        throw new Error("Durable Object reset because its code was updated.");
      };
      const agent = { agentId: cert.agent_id, tenantId: cert.tenant_id, serial: cert.serial_number, scopes: cert.scopes };
      await expect(m.ingest(agent, [ev(1) as never, ev(2) as never])).rejects.toThrow(/reset/);
      delete patched.scheduleForwarding;
      return { pending: m.pendingForwards(), alarm: await state.storage.getAlarm() };
    });
    expect(committed).toEqual({ pending: 2, alarm: null });
    const retry = await post(token, { events: [ev(1), ev(2)] });
    expect(retry.status).toBe(202);
    expect((await retry.json<Outcome>()).data).toMatchObject({ accepted: 0, duplicates: 2 });
    // Acknowledged now: something must be due to deliver them, not only the agent's next new event.
    const after = await runInDurableObject(stub, async (m: AgentMonitor, state) => ({ pending: m.pendingForwards(), alarm: await state.storage.getAlarm() }));
    expect(after.pending).toBe(2);
    expect(after.alarm).not.toBeNull();
    // And that alarm delivers them (a stand-in origin acknowledging every call).
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json({ data: { stored: 2, duplicates: 0, rejected: 0 } }));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await runInDurableObject(stub, async (m: AgentMonitor) => m.pendingForwards())).toBe(0);
    // The risk those events gave the agent reaches verify too (its KV record), as after any ingest.
    const risk = await runInDurableObject(stub, async (m: AgentMonitor) => m.risk(cert.agent_id));
    const published = await env.CERT_STATUS.get<{ score: number; band: string }>(`risk:${cert.serial_number}`, "json");
    expect(published).toMatchObject({ score: risk.score, band: risk.band });
  });
});
