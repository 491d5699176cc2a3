import { reset, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mintIngestToken, type AgentRecord, type ScoringRecord, type TenantScoring } from "@kakunin/shared";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { agentRec, certRec, env, nextV, publish, SECRET } from "./fixtures.ts";

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await reset();
});

async function enrolled(scoring: TenantScoring | undefined, sensitivity?: AgentRecord["sensitivity"]) {
  const tenant = crypto.randomUUID();
  const cert = certRec({ tenant_id: tenant });
  const records = [
    cert,
    agentRec({ agent_id: cert.agent_id, tenant_id: tenant, current_serial: cert.serial_number, ...(sensitivity && { sensitivity }) }),
    ...(scoring ? [{ kind: "scoring", v: nextV(), tenant_id: tenant, scoring } satisfies ScoringRecord] : []),
  ];
  expect((await publish(records)).status).toBe(200);
  const mint = () => {
    const now = Math.floor(Date.now() / 1000);
    return mintIngestToken(SECRET, {
      agent_id: cert.agent_id,
      tenant_id: tenant,
      serial: cert.serial_number,
      iat: now,
      exp: now + 3600,
      jti: crypto.randomUUID(),
    });
  };
  const token = await mint();
  return { cert, token, mint };
}

const post = (token: string, events: object[]) =>
  exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ events }),
  });

const at = (id: string, action: string, ms: number) => ({ event_id: id, timestamp: new Date(ms).toISOString(), type: "tool_call", action, outcome: "success" });

const raws = (agentId: string) =>
  runInDurableObject(env.AGENT_MONITOR.getByName(agentId), async (_m: AgentMonitor, state) =>
    Number(state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events WHERE raw IS NOT NULL").one().n),
  );

/**
 * The scorer's own verdict (`events.raw`) is what a review's clear restores the agent's lingering
 * risk from, for the events of the last two hours (riskSince). It was stored for every event of an
 * agent whose tenant changes anything (thresholds alone included, which change no score), and kept
 * in the row of the event's de-duplication id for 31 days (up to 10 M ids, sized at about 300 bytes
 * each): roughly twice the storage per id, for a value read for two hours.
 */
describe("the scorer's own verdict is stored where it differs, and only while a clear can read it", () => {
  it("a tenant's thresholds change no score: nothing is stored beside the tenant's view", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const a = await enrolled({ thresholds: { medium: 0.2, high: 0.6 } });
    const t0 = Date.now() - 600_000;
    expect(
      (
        await post(
          a.token,
          Array.from({ length: 20 }, (_, i) => at(`h-${i}`, "orders.place", t0 + i * 20_000)),
        )
      ).status,
    ).toBe(202);
    expect((await post(a.token, [at("x", "payments.send", Date.now())])).status).toBe(202);
    expect(await raws(a.cert.agent_id)).toBe(0);
  });

  it("under low sensitivity it is stored, and the alarm clears it once older than a clear reads", async () => {
    // The origin is away; the rows are marked forwarded below.
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const a = await enrolled(undefined, "low");
    const t0 = Date.now() - 600_000;
    expect(
      (
        await post(
          a.token,
          Array.from({ length: 20 }, (_, i) => at(`h-${i}`, "orders.place", t0 + i * 20_000)),
        )
      ).status,
    ).toBe(202);
    expect((await post(a.token, [at("x", "payments.send", Date.now())])).status).toBe(202);
    const stub = env.AGENT_MONITOR.getByName(a.cert.agent_id);
    const kept = await raws(a.cert.agent_id);
    expect(kept).toBeGreaterThan(0);
    // Delivered (the origin's answer aside: marked as forwarded, as the forwarder does).
    await runInDurableObject(stub, async (_m: AgentMonitor, state) => state.storage.sql.exec("UPDATE events SET payload = NULL"));
    // Within the two hours a clear can read: kept.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await raws(a.cert.agent_id)).toBe(kept);
    // Past them: cleared.
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 2 * 3_600_000 + 60_000 });
    await runInDurableObject(stub, async (_m: AgentMonitor, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(stub);
    expect(await raws(a.cert.agent_id)).toBe(0);
    // A later event's is stored again, and kept while a clear can read it.
    expect((await post(await a.mint(), [at("y", "payments.refund", Date.now())])).status).toBe(202);
    await runDurableObjectAlarm(stub);
    expect(await raws(a.cert.agent_id)).toBe(1);
    // Each run walks the forwarded rows received since the last one through their index, not the table of ids.
    const plans = await runInDurableObject(stub, async (_m: AgentMonitor, state) =>
      [
        "SELECT max(received_at) AS t FROM (SELECT received_at FROM events WHERE payload IS NULL AND received_at > ? AND received_at <= ? ORDER BY received_at LIMIT ?)",
        "UPDATE events SET raw = NULL WHERE payload IS NULL AND received_at > ? AND received_at <= ? AND raw IS NOT NULL",
      ].map((q) =>
        state.storage.sql
          .exec<{ detail: string }>(`EXPLAIN QUERY PLAN ${q}`, ...(q.includes("LIMIT") ? [0, 1, 10] : [0, 1]))
          .toArray()
          .map((r) => r.detail)
          .join("; "),
      ),
    );
    for (const plan of plans) expect(plan).toMatch(/USING INDEX events_forwarded/);
  });
});
