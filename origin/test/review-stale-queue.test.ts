import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";
import { flaggableAgent } from "./review-fixtures.ts";

/**
 * A decision closes every open alert of the agent. An alert that arrived after the reviewer loaded
 * the queue was closed by a decision about the ones before it, unseen: a clear accepted its events
 * as normal history. `alerts` (optional, the queue item's count the reviewer decided on) makes the
 * decision conditional, as GitHub's merge takes the head `sha` it was reviewed at: a different
 * count now is 409 `review-stale` and nothing is decided.
 */
describe.each(dbKinds())("POST /v1/agents/:id/review with the alerts the reviewer saw on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("a new alert since the queue was loaded: 409 review-stale, nothing decided; the count now decides", async () => {
    // Flagged, not revoked: the agent stays in the queue while it goes high again.
    const { agent, alert } = await flaggableAgent(o);
    expect((await alert(`a1-${agent}`))?.decision).toBe("flagged");
    const item = async () =>
      (await o.json<{ data: { agent_id: string; alerts: number }[] }>("GET", "/v1/reviews?limit=200")).body.data.find((i) => i.agent_id === agent);
    const seen = (await item())!.alerts;
    expect(seen).toBe(1);
    // The agent goes high again while the reviewer reads the first alert.
    await alert(`a2-${agent}`);
    expect((await item())!.alerts).toBe(2);
    const audits = async () =>
      (await o.json<{ data: { kind: string }[] }>("GET", `/v1/audit/entries?agent_id=${agent}&kind=review.decided&limit=1000`)).body.data.filter(
        (e) => e.kind === "review.decided",
      ).length;

    const stale = await o.json<{ type: string; status: number; detail: string }>("POST", `/v1/agents/${agent}/review`, {
      body: { decision: "clear", reason: "false positive", alerts: seen },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.type).toMatch(/review-stale$/);
    expect(stale.body.detail).toMatch(/2 open alerts/);
    expect((await item())!.alerts).toBe(2);
    expect(await audits()).toBe(0);

    // Bad counts are bad input, not a stale queue.
    for (const alerts of [0, -1, 1.5, "2", null]) {
      const bad = await o.json<{ errors: { path: string }[] }>("POST", `/v1/agents/${agent}/review`, { body: { decision: "clear", reason: "x", alerts } });
      expect(bad.status).toBe(422);
      expect(bad.body.errors[0]!.path).toBe("alerts");
    }

    const done = await o.json<{ data: { closed_alerts: number } }>("POST", `/v1/agents/${agent}/review`, {
      body: { decision: "clear", reason: "false positive", alerts: 2 },
    });
    expect(done.status).toBe(200);
    expect(done.body.data.closed_alerts).toBe(2);
    expect(await item()).toBeUndefined();
    expect(await audits()).toBe(1);
  });

  it("`opened_at`: a decision made on alerts someone else closed since, with the agent flagged again as often, is 409 review-stale", async () => {
    const { agent, alert } = await flaggableAgent(o);
    await alert(`c1-${agent}`, new Date(Date.now() - 60_000));
    const item = async () =>
      (await o.json<{ data: { agent_id: string; alerts: number; opened_at: string }[] }>("GET", "/v1/reviews?limit=200")).body.data.find(
        (i) => i.agent_id === agent,
      );
    const seen = (await item())!;
    // Another reviewer clears it; the agent is flagged again, once, as the first reviewer saw it.
    expect((await o.json("POST", `/v1/agents/${agent}/review`, { body: { decision: "clear", reason: "first reviewer" } })).status).toBe(200);
    await alert(`c2-${agent}`, new Date());
    expect((await item())!.alerts).toBe(seen.alerts);
    const stale = await o.json<{ type: string; detail: string }>("POST", `/v1/agents/${agent}/review`, {
      body: { decision: "clear", reason: "second reviewer", alerts: seen.alerts, opened_at: seen.opened_at },
    });
    expect(stale.status).toBe(409);
    expect(stale.body.type).toMatch(/review-stale$/);
    for (const opened_at of ["yesterday", "2026-13-01T00:00:00Z", 5]) {
      const bad = await o.json<{ errors: { path: string }[] }>("POST", `/v1/agents/${agent}/review`, { body: { decision: "clear", reason: "x", opened_at } });
      expect(bad.status).toBe(422);
      expect(bad.body.errors[0]!.path).toBe("opened_at");
    }
    const now = (await item())!;
    const done = await o.json("POST", `/v1/agents/${agent}/review`, {
      body: { decision: "clear", reason: "second reviewer", alerts: now.alerts, opened_at: now.opened_at },
    });
    expect(done.status).toBe(200);
  });

  it("without `alerts` the decision closes every open alert, as before", async () => {
    const { agent, alert } = await flaggableAgent(o);
    for (const id of ["b1", "b2"]) await alert(`${id}-${agent}`);
    const done = await o.json<{ data: { closed_alerts: number } }>("POST", `/v1/agents/${agent}/review`, {
      body: { decision: "clear", reason: "false positive" },
    });
    expect(done.status).toBe(200);
    expect(done.body.data.closed_alerts).toBe(2);
  });
});
