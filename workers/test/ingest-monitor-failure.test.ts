import { reset, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, expect, it } from "vitest";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

const ev = { event_id: "m-1", timestamp: new Date(Date.now() - 1000).toISOString(), type: "tool_call", action: "orders.place", outcome: "success" };

/**
 * The agent's Durable Object failing (reset, overloaded, a storage error) is the edge being
 * unavailable for that agent, not a server bug: 503 with Retry-After, so the agent's runtime sends
 * the batch again (event ids make the retry idempotent), never a bare 500 "unexpected error".
 */
it("a batch whose agent monitor fails gets 503 monitor-unavailable with Retry-After, and the retry is accepted once", async () => {
  const { cert, token } = await enrolledAgent();
  const stub = env.AGENT_MONITOR.getByName(cert.agent_id);
  // RPC calls the class's method (an own property on the instance is not an RPC method): swap the
  // prototype's for one call, then put it back.
  await runInDurableObject(stub, async (m: AgentMonitor) => {
    const proto = Object.getPrototypeOf(m) as { ingest: AgentMonitor["ingest"] };
    const real = proto.ingest;
    proto.ingest = async function failOnce(this: AgentMonitor) {
      proto.ingest = real;
      throw new Error("Durable Object reset because its code was updated.");
    };
  });
  const post = () =>
    exports.default.fetch("http://edge/v1/events", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify(ev),
    });
  const failed = await post();
  expect(failed.status).toBe(503);
  expect(failed.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(failed.headers.get("retry-after")).toBe("1");
  const problem = await failed.json<{ type: string; detail: string }>();
  expect(problem.type).toBe("urn:kakunin:problem:monitor-unavailable");
  expect(problem.detail).toMatch(/send the batch again/);
  const again = await post();
  expect(again.status, await again.clone().text()).toBe(202);
  expect(await again.json()).toMatchObject({ data: { accepted: 1, duplicates: 0 } });
});
