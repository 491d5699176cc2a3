import { reset, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AgentEvent } from "@kakunin/shared";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env, nextV, publish } from "./fixtures.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

interface Outcome {
  data: { results: { score: number; band: string }[] };
}

const post = async (token: string, events: AgentEvent[]) =>
  (
    await exports.default.fetch("http://edge/v1/events", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ events }),
    })
  ).json<Outcome>();

const at = (id: string, action: string, ms: number, type: AgentEvent["type"] = "tool_call"): AgentEvent => ({
  event_id: id,
  timestamp: new Date(ms).toISOString(),
  type,
  action,
  resource: `r/${id}`,
  outcome: "success",
});

/**
 * The scorer adds a late event (back-filled history, older than the agent's risk) to the agent's
 * lingering risk only with what is left of it now (engine.ts: an anomaly hours old that arrived
 * late set the agent's current risk, verify and ?max_band=, to its full score). A review's clear
 * that left unreviewed events restored the risk from their stored scores at full strength from
 * their receipt: a history event of hours ago, high on its own, made the cleared agent high again
 * (verify high, an after-review alert, auto-revoked under that policy) where the scorer had it low.
 */
describe("a clear keeps a late event's risk as the scorer did", () => {
  it("an unreviewed event of hours ago, received after the alert, does not make the cleared agent high", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const { cert, token } = await enrolledAgent({ scopes: ["orders.*"] });
    const t0 = Date.now() - 700_000;
    await post(
      token,
      Array.from({ length: 20 }, (_, i) => at(`h-${i}`, "orders.place", t0 + i * 20_000)),
    );
    expect((await post(token, [at("x", "payments.wire", Date.now() - 60_000, "transaction")])).data.results[0]!.band).toBe("high");
    const m = env.AGENT_MONITOR.getByName(cert.agent_id);
    const alerts = () =>
      runInDurableObject(m, async (_x: AgentMonitor, state) =>
        state.storage.sql
          .exec<{ alert_id: string; payload: string }>("SELECT alert_id, payload FROM alerts ORDER BY created_at")
          .toArray()
          .map((r) => ({ id: r.alert_id, ...(JSON.parse(r.payload) as { triggered_at: string }) })),
      );
    const [first] = await alerts();
    await new Promise((r) => setTimeout(r, 20));
    // After the alert: history from three hours ago, high on its own, which the agent's risk takes almost nothing of.
    const y = (await post(token, [at("y", "payments.send", Date.now() - 3 * 3_600_000, "transaction")])).data.results[0]!;
    expect(y.band).toBe("high");
    const fb = {
      kind: "feedback" as const,
      v: nextV(),
      tenant_id: cert.tenant_id,
      agent_id: cert.agent_id,
      review_id: crypto.randomUUID(),
      event_ids: ["x"],
      accepted_until: first!.triggered_at,
    };
    expect((await publish([fb])).status).toBe(200);
    const risk = await runInDurableObject(m, async (mon: AgentMonitor) => mon.risk(cert.agent_id));
    expect(risk.score).toBeLessThan(0.01);
    expect(risk.band).toBe("low");
    expect((await alerts()).filter((a) => a.id.endsWith(":after-review"))).toEqual([]);
  });
});
