import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { enrolledAgent } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

const MIN = 60_000;

const post = (token: string, events: unknown[]) =>
  exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ events }),
  });

const risk = async (agentId: string, token: string) =>
  (
    await (
      await exports.default.fetch(`http://edge/v1/agents/${agentId}/risk`, { headers: { authorization: `Bearer ${token}` } })
    ).json<{
      data: { updated_at: string | null; events_scored: number };
    }>()
  ).data;

const event = (id: string, at: number) => ({
  event_id: id,
  timestamp: new Date(at).toISOString(),
  type: "tool_call",
  action: "orders.place",
  resource: "customer/1",
  outcome: "success",
});

/**
 * The risk view's updated_at is when this edge last updated the agent's risk. It was the latest
 * time the agent claimed for an event: an agent stamping its events hours back read as quiet for
 * hours while the edge was scoring it, and an event stamped minutes ahead (the skew tolerance) put
 * updated_at in the future.
 */
describe("GET /v1/agents/:id/risk updated_at", () => {
  it("is when the edge scored the events, not the times the agent claimed for them", async () => {
    const { cert, token } = await enrolledAgent();
    const before = Date.now();
    expect((await post(token, [event("a", before - 3 * 60 * MIN), event("b", before - 3 * 60 * MIN + 1000)])).status).toBe(202);
    const back = await risk(cert.agent_id, token);
    expect(back.events_scored).toBe(2);
    expect(Date.parse(back.updated_at!)).toBeGreaterThanOrEqual(before);
    expect((await post(token, [event("c", Date.now() + 4 * MIN)])).status).toBe(202);
    const ahead = await risk(cert.agent_id, token);
    expect(Date.parse(ahead.updated_at!)).toBeLessThanOrEqual(Date.now());
  });
});
