import { reset, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_SCORING, type MonitorState } from "@kakunin/shared";
import { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env } from "./fixtures.ts";

/**
 * An AgentMonitor created by an older build keeps working under this one. The whole-edge case
 * (release 9f2709c's persisted Durable Objects and KV under this build's wrangler dev) is
 * test/edge-upgrade.e2e.test.ts; this file holds what needs the object's own tables: state that an
 * older build could not have written, read by today's code as if it had been.
 */
afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

const post = async (token: string, events: object[]) =>
  exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ events }),
  });

const amounts = (sql: SqlStorage) => {
  const state = JSON.parse(sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = 'state'").toArray()[0]!.v) as MonitorState;
  return Object.values(state.amounts).sort((a, b) => b.seen - a.seen)[0]!;
};

describe("a monitor from before alert_marks (release 9f2709c)", () => {
  it("a review clearing an alert it raised accepts the amounts the alert showed, as that release did", async () => {
    // The origin is away: nothing here depends on it.
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const { cert, token } = await enrolledAgent();
    const t0 = Date.now() - 3_600_000;
    const ev = (i: number, amount: number) => ({
      event_id: `e-${i}`,
      timestamp: new Date(t0 + i * 10_000).toISOString(),
      type: "tool_call",
      action: "orders.place",
      resource: `orders/${i % 5}`,
      amount,
      currency: "EUR",
      outcome: "success",
    });
    // More ordinary amounts than the frozen reference holds, then a run of much larger ones.
    const n = DEFAULT_SCORING.caps.amountRef + 8;
    expect(
      (
        await post(
          token,
          Array.from({ length: n }, (_, i) => ev(i, 100 + (i % 7))),
        )
      ).status,
    ).toBe(202);
    expect(
      (
        await post(
          token,
          Array.from({ length: 12 }, (_, i) => ev(n + i, 20_000 + i)),
        )
      ).status,
    ).toBe(202);
    await runInDurableObject(env.AGENT_MONITOR.getByName(cert.agent_id), async (_m: AgentMonitor, state) => {
      const sql = state.storage.sql;
      // As 9f2709c left it: its CREATE TABLE statements had no alert_marks, so no alert has a mark.
      sql.exec("DROP TABLE alert_marks");
      const alertAt = Date.now() - 1_000;
      // Today's code starting on those tables, as a deploy replaces the code under a live object.
      const upgraded = new AgentMonitor(state, env);
      const before = amounts(sql);
      expect(before.ref).toHaveLength(DEFAULT_SCORING.caps.amountRef);
      expect(before.ref).not.toContain(before.recent.at(-1));
      // The origin's feedback for a review that closed the old alert (accepted_until: its time).
      expect(await upgraded.acceptAsNormal(crypto.randomUUID(), ["e-1"], alertAt, ["amount_drift"])).toEqual({ applied: true });
      const after = amounts(sql);
      // The reviewed values are the new reference: the amounts a human cleared stop counting as drift.
      expect(after.ref).toEqual(after.recent.slice(-DEFAULT_SCORING.caps.amountRef));
      expect(after.ref).toContain(before.recent.at(-1));
    });
  });
});
