import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { latestEvents } from "../src/console/agent-data.ts";
import { agentsPage } from "../src/console/agents-data.ts";
import { agentBody, dbKinds, forwardedEvent, postInternal, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * An event's `timestamp` is the agent's claim (accepted up to 30 days back). What the console shows
 * as an agent's latest (the agents list's band, score and sparkline, its Band filter, the agent
 * page's latest events and the timeline's newest points) is what the edge received last. Before,
 * it was ordered by the claim: a compromised agent stamped its high-risk burst 29 days back and
 * stayed "low" in the list, out of the Band=high filter and out of the latest 50 events.
 */
const HIGH = {
  score: 0.97,
  band: "high" as const,
  reasons: [{ feature: "out_of_scope", contribution: 0.97, detail: "refunds.issue is not in the declared scopes" }],
};
const DAY = 86_400_000;

for (const kind of dbKinds()) {
  describe(`console: the latest events are the last received, not the latest claimed (${kind})`, () => {
    let o: TestOrigin;
    let tenant = "";
    let agent = "";

    beforeAll(async () => {
      o = await startTestOrigin(kind);
      tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
      agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "backdater" }) })).body.data.id;
      const serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
      const to = { agent, tenant, serial };
      const now = Date.now();
      // An hour ago the edge received 60 ordinary events, stamped as they happened.
      const ordinary = Array.from({ length: 60 }, (_, i) => ({
        ...forwardedEvent(to, {
          event_id: `ok-${i}`,
          timestamp: new Date(now - 3600_000 + i * 1000).toISOString(),
          type: "tool_call",
          action: "orders.place",
          outcome: "success",
        }),
        received_at: new Date(now - 3600_000 + 60_000).toISOString(),
      }));
      expect((await postInternal(o, "/internal/v1/events", { events: ordinary })).status).toBe(200);
      // Now: a high-risk burst the agent stamped 29 days back.
      const burst = Array.from({ length: 5 }, (_, i) =>
        forwardedEvent(
          to,
          {
            event_id: `burst-${i}`,
            timestamp: new Date(now - 29 * DAY + i * 1000).toISOString(),
            type: "transaction",
            action: "refunds.issue",
            outcome: "success",
          },
          HIGH,
        ),
      );
      expect((await postInternal(o, "/internal/v1/events", { events: burst })).status).toBe(200);
    });
    afterAll(async () => o?.close());

    it("the agents list shows the burst's band and score, and Band=high finds the agent", async () => {
      const all = await agentsPage(o.services.db, tenant, { limit: 25 });
      const row = all.rows.find((r) => r.agent.id === agent)!;
      expect({ band: row.band, score: row.score }).toEqual({ band: "high", score: 0.97 });
      expect(row.spark.at(-1)).toBe(0.97);
      const high = await agentsPage(o.services.db, tenant, { band: "high", limit: 25 });
      expect(high.rows.map((r) => r.agent.id)).toContain(agent);
      const low = await agentsPage(o.services.db, tenant, { band: "low", limit: 25 });
      expect(low.rows.map((r) => r.agent.id)).not.toContain(agent);
    });

    it("the agent page's latest 50 events start with the burst, newest claim first within it", async () => {
      const latest = await latestEvents(o.services.db, agent, 50);
      expect(latest.slice(0, 5).map((e) => e.eventId)).toEqual(["burst-4", "burst-3", "burst-2", "burst-1", "burst-0"]);
    });
  });
}
