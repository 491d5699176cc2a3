import { reset, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mintIngestToken, type ScoringRecord, type TenantScoring } from "@kakunin/shared";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { agentRec, certRec, env, nextV, publish, SECRET } from "./fixtures.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

const post = async (token: string, events: object[]) =>
  (
    await exports.default.fetch("http://edge/v1/events", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ events }),
    })
  ).json<{ data: { results: { band: string }[] } }>();

const event = (id: string, action: string, agoMs: number) => ({
  event_id: id,
  timestamp: new Date(Date.now() - agoMs).toISOString(),
  type: "tool_call",
  action,
  outcome: "success",
});

/**
 * "Became high" (what opens a review or auto-revokes) is judged against the band the tenant was
 * shown. When the tenant lowers its high threshold, an agent whose risk already sat between the old
 * and the new threshold is high from its next event: it must be alerted then, not be high at verify
 * and in /risk while no review ever opens (its risk was "already high" under the new thresholds).
 */
describe("a threshold change that puts an agent in high", () => {
  it("alerts on the agent's next event", async () => {
    // The origin is away: queued alerts stay where the test can read them.
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const tenant = crypto.randomUUID();
    const cert = certRec({ tenant_id: tenant });
    const scoring = (s: TenantScoring): ScoringRecord => ({ kind: "scoring", v: nextV(), tenant_id: tenant, scoring: s });
    // out_of_scope (0.9) at weight 0.4: 1 − 0.1^0.4 ≈ 0.6, medium under the default thresholds.
    const weights = { out_of_scope: 0.4 };
    const records = [cert, agentRec({ agent_id: cert.agent_id, tenant_id: tenant, current_serial: cert.serial_number }), scoring({ weights })];
    expect((await publish(records)).status).toBe(200);
    const now = Math.floor(Date.now() / 1000);
    const token = await mintIngestToken(SECRET, {
      agent_id: cert.agent_id,
      tenant_id: tenant,
      serial: cert.serial_number,
      iat: now,
      exp: now + 3600,
      jti: crypto.randomUUID(),
    });
    await post(
      token,
      Array.from({ length: 20 }, (_, i) => event(`h-${i}`, "orders.place", 600_000 - i * 20_000)),
    );
    expect((await post(token, [event("x", "payments.send", 2_000)])).data.results[0]!.band).toBe("medium");
    const m = env.AGENT_MONITOR.getByName(cert.agent_id);
    const alerts = () => runInDurableObject(m, async (_x: AgentMonitor, state) => state.storage.sql.exec("SELECT alert_id FROM alerts").toArray().length);
    expect(await alerts()).toBe(0);

    expect((await publish([scoring({ weights, thresholds: { medium: 0.3, high: 0.5 } })])).status).toBe(200);
    await post(token, [event("next", "orders.place", 0)]);
    expect((await runInDurableObject(m, async (x: AgentMonitor) => x.risk(cert.agent_id))).band).toBe("high");
    expect(await alerts()).toBe(1);
    // And only once: the agent's next event finds it already shown high.
    await post(token, [event("after", "orders.place", 0)]);
    expect(await alerts()).toBe(1);
  });
});
