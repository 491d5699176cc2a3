import { env as testEnv, reset, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mintIngestToken, type ScoringRecord } from "@kakunin/shared";
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
  ).json<{ data: { results: { band: string; score: number }[] } }>();

const event = (id: string, action: string, agoMs: number) => ({
  event_id: id,
  timestamp: new Date(Date.now() - agoMs).toISOString(),
  type: "tool_call",
  action,
  outcome: "success",
});

/**
 * The monitor writes the agent's risk to KV (what verify and `?max_risk=` read) at once on a band
 * change and otherwise at most every 5 s (KV's write rate per key). A change inside the band within
 * those 5 s must still be written when they are over, not only if the agent posts again: a gateway
 * asking `max_risk=0.4` would otherwise keep accepting an agent at 0.5 for as long as it is quiet.
 */
describe("risk written to KV", () => {
  it("a change within the band during the write interval is written when the interval ends", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const tenant = crypto.randomUUID();
    const cert = certRec({ tenant_id: tenant });
    // out_of_scope at weight 0.2 keeps the agent in medium while its risk climbs.
    const scoring: ScoringRecord = { kind: "scoring", v: nextV(), tenant_id: tenant, scoring: { weights: { out_of_scope: 0.2 } } };
    expect((await publish([cert, agentRec({ agent_id: cert.agent_id, tenant_id: tenant, current_serial: cert.serial_number }), scoring])).status).toBe(200);
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
    expect((await post(token, [event("x", "payments.send", 1_000)])).data.results[0]!.band).toBe("medium");
    expect((await post(token, [event("y", "payments.refund", 0)])).data.results[0]!.band).toBe("medium");
    const m = env.AGENT_MONITOR.getByName(cert.agent_id);
    const shown = await runInDurableObject(m, async (_x: AgentMonitor, state) => {
      const row = state.storage.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'risk_view'").toArray()[0]!;
      return (JSON.parse(row.v) as { score: number }).score;
    });
    const stored = async () => (JSON.parse((await testEnv.CERT_STATUS.get(`risk:${cert.serial_number}`)) ?? "{}") as { score?: number }).score;
    // The risk rose within the band after the first write.
    expect(await stored()).not.toBe(shown);
    await new Promise((r) => setTimeout(r, 5_100));
    await runDurableObjectAlarm(m);
    expect(await stored()).toBe(shown);
  }, 20_000);
});
