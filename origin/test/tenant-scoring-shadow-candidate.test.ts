import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ForwardedEvents } from "@kakunin/shared";
import { storeEvents } from "../src/internal/store-events.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Report {
  candidate: { since: string } | null;
  events_rebanded: number;
  would_go_high_agents: number;
}

/**
 * GET /v1/tenant/scoring/shadow reports one candidate. The edge applies a new candidate only once
 * its KV record arrives (seconds, up to a minute), so for a while after a PATCH it still forwards
 * verdicts of the previous candidate, received after the new one's `since`. Those must not be
 * counted as the new candidate's: the verdict names the candidate (its `since`) that gave it.
 */
describe.each(dbKinds())("shadow report of one candidate on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("verdicts of a replaced candidate are not counted in the new one's report; edges that name none still are", async () => {
    const setA = await o.json<{ data: { shadow: { since: string } } }>("PATCH", "/v1/tenant/scoring", {
      body: { shadow: { thresholds: { medium: 0.2, high: 0.5 } } },
    });
    const sinceA = setA.body.data.shadow.since;
    await new Promise((r) => setTimeout(r, 5));
    const setB = await o.json<{ data: { shadow: { since: string } } }>("PATCH", "/v1/tenant/scoring", {
      body: { shadow: { thresholds: { medium: 0.1, high: 0.9 } } },
    });
    const sinceB = setB.body.data.shadow.since;
    expect(sinceB > sinceA).toBe(true);
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const at = new Date(Date.now() + 1000).toISOString();
    const up = {
      score: 0.6,
      band: "high" as const,
      risk_band: "high" as const,
      active_band: "medium" as const,
      active_risk_band: "medium" as const,
      would_become_high: true,
    };
    const ev = (id: string, since?: string): ForwardedEvents["events"][number] => ({
      agent_id: agent,
      tenant_id: tenant,
      serial_number: "4d2f",
      score: 0.6,
      band: "medium",
      reasons: [],
      received_at: at,
      event: { event_id: id, timestamp: at, type: "tool_call", action: "orders.place", outcome: "success" },
      shadow: { ...up, ...(since && { since }) },
    });
    // Received after B was set, but scored by an edge that still had A.
    await storeEvents(o.services, { events: [ev("stale-a", sinceA), ev("by-b", sinceB), ev("old-edge")] });
    const r = await o.json<{ data: Report }>("GET", "/v1/tenant/scoring/shadow");
    expect(r.status).toBe(200);
    expect(r.body.data.candidate?.since).toBe(sinceB);
    // B's own verdict and the one from an edge that does not name its candidate: 2, not 3.
    expect(r.body.data.events_rebanded).toBe(2);
  });

  it("a verdict that names the candidate counts even when the edge's clock put it a little before since", async () => {
    const key = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `skew-${kind}` } })).body.data.admin_api_key;
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant", { key })).body.data.id;
    const set = await o.json<{ data: { shadow: { since: string } } }>("PATCH", "/v1/tenant/scoring", {
      key,
      body: { shadow: { thresholds: { medium: 0.2, high: 0.5 } } },
    });
    const since = set.body.data.shadow.since;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { key, body: agentBody() })).body.data.id;
    // The edge's clock runs 2 s behind the origin's.
    const at = new Date(Date.parse(since) - 2_000).toISOString();
    const shadow = {
      score: 0.6,
      band: "high" as const,
      risk_band: "high" as const,
      active_band: "medium" as const,
      active_risk_band: "medium" as const,
      would_become_high: true,
    };
    const ev = (id: string, named: boolean): ForwardedEvents["events"][number] => ({
      agent_id: agent,
      tenant_id: tenant,
      serial_number: "4d2f",
      score: 0.6,
      band: "medium",
      reasons: [],
      received_at: at,
      event: { event_id: id, timestamp: at, type: "tool_call", action: "orders.place", outcome: "success" },
      shadow: { ...shadow, ...(named && { since }) },
    });
    await storeEvents(o.services, { events: [ev("named", true), ev("unnamed", false)] });
    const r = await o.json<{ data: Report }>("GET", "/v1/tenant/scoring/shadow", { key });
    // The named one is this candidate's; an unnamed one before since cannot be told from the previous candidate's.
    expect(r.body.data.events_rebanded).toBe(1);
  });

  it("a change of the active configuration restarts the candidate's report: its verdicts were against the old one", async () => {
    const key = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `active-change-${kind}` } })).body.data.admin_api_key;
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant", { key })).body.data.id;
    const set = await o.json<{ data: { shadow: { since: string } } }>("PATCH", "/v1/tenant/scoring", {
      key,
      body: { shadow: { thresholds: { medium: 0.2, high: 0.5 } } },
    });
    const since = set.body.data.shadow.since;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { key, body: agentBody() })).body.data.id;
    const at = new Date(Date.parse(since) + 1).toISOString();
    // Under the active defaults this event was medium; the candidate said high.
    await storeEvents(o.services, {
      events: [
        {
          agent_id: agent,
          tenant_id: tenant,
          serial_number: "4d2f",
          score: 0.6,
          band: "medium",
          reasons: [],
          received_at: at,
          event: { event_id: "before-change", timestamp: at, type: "tool_call", action: "orders.place", outcome: "success" },
          shadow: { score: 0.6, band: "high", risk_band: "high", active_band: "medium", active_risk_band: "medium", would_become_high: true, since },
        },
      ],
    });
    expect((await o.json<{ data: Report }>("GET", "/v1/tenant/scoring/shadow", { key })).body.data.events_rebanded).toBe(1);
    // Setting the active line the same changes nothing, and keeps the report.
    const same = await o.json<{ data: { shadow: { since: string } } }>("PATCH", "/v1/tenant/scoring", { key, body: { thresholds: { high: 0.85 } } });
    expect(same.body.data.shadow.since).toBe(since);
    await new Promise((r) => setTimeout(r, 5));
    // The admin moves the active high line to 0.5 (what the candidate proposed): that event is
    // high under the active configuration now, and the report must not say the candidate would
    // still change it.
    const moved = await o.json<{ data: { shadow: { since: string } } }>("PATCH", "/v1/tenant/scoring", { key, body: { thresholds: { high: 0.5 } } });
    expect(moved.status).toBe(200);
    expect(moved.body.data.shadow.since > since).toBe(true);
    const r = await o.json<{ data: Report }>("GET", "/v1/tenant/scoring/shadow", { key });
    expect(r.body.data.candidate?.since).toBe(moved.body.data.shadow.since);
    expect(r.body.data.events_rebanded).toBe(0);
    // Weights too.
    await new Promise((r) => setTimeout(r, 5));
    const weighted = await o.json<{ data: { shadow: { since: string } } }>("PATCH", "/v1/tenant/scoring", { key, body: { weights: { latency: 0 } } });
    expect(weighted.body.data.shadow.since > moved.body.data.shadow.since).toBe(true);
  });
});
