import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AgentEvent } from "@kakunin/shared";
import { ALERT_BURST } from "../src/monitor/alert-budget.ts";
import { MAX_ALERTS_PER_BATCH } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent } from "./fixtures.ts";
import { alertsQueued, DAY, HOUR, MIN, post, SCOPES, wire, work } from "./alert-fixtures.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

/**
 * Each alert is a decision and an audit entry at the origin and a risk.high webhook to every
 * endpoint of the tenant (up to 20), all endpoints' deliveries queued oldest first: the tenant's
 * other agents' auto_revoked and review_required wait behind them. One batch raises at most
 * MAX_ALERTS_PER_BATCH; these tests hold the agent to a budget across batches too.
 */
describe("alerts one agent can raise about its own history", () => {
  it("are bounded per agent across batches, not only per batch", async () => {
    // The origin is away: alerts stay queued where they can be counted.
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const { cert, token } = await enrolledAgent({ scopes: SCOPES });
    const t0 = Date.now();
    const base = Array.from({ length: 40 }, (_, i) => work(`w-${i}`, t0 - 50 * MIN + i * MIN));
    expect((await post(token, base)).status).toBe(202);
    // Ten requests, each of 16 back-dated wires an hour apart: each high at its own time, the
    // agent's current risk untouched, so each "became high". Before: 16 alerts a request, 160.
    const requests = 10;
    for (let r = 0; r < requests; r++) {
      const late = Array.from({ length: MAX_ALERTS_PER_BATCH }, (_, i) => wire(`late-${r}-${i}`, t0 - (2 + r) * DAY + i * HOUR));
      const res = await post(token, late);
      expect(res.status).toBe(202);
      const bands = (await res.json<{ data: { results: { band: string }[] } }>()).data.results.map((x) => x.band);
      expect(bands.every((b) => b === "high")).toBe(true);
    }
    const queued = await alertsQueued(cert.agent_id);
    expect(queued).toBeGreaterThan(0);
    expect(queued).toBeLessThanOrEqual(ALERT_BURST + 1);
  });

  it("are bounded when the history is posted in time order too (episodes minutes apart, days ago)", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const { cert, token } = await enrolledAgent({ scopes: SCOPES });
    const t0 = Date.now() - 29 * DAY;
    // Each request: 16 episodes, a wire then ordinary work ten claimed minutes later (the risk
    // decays below high over the claimed gap), all in time order, all long before now.
    const requests = 10;
    let at = t0;
    for (let r = 0; r < requests; r++) {
      const events: AgentEvent[] = [];
      for (let i = 0; i < MAX_ALERTS_PER_BATCH; i++) {
        events.push(wire(`w-${r}-${i}`, at), work(`o-${r}-${i}`, at + 10 * MIN));
        at += 20 * MIN;
      }
      expect((await post(token, events)).status).toBe(202);
    }
    const queued = await alertsQueued(cert.agent_id);
    expect(queued).toBeGreaterThan(0);
    expect(queued).toBeLessThanOrEqual(ALERT_BURST + 1);
  });

  it("never holds back the alert of the agent's current risk becoming high", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const { cert, token } = await enrolledAgent({ scopes: SCOPES });
    const t0 = Date.now();
    const base = Array.from({ length: 40 }, (_, i) => work(`w-${i}`, t0 - 50 * MIN + i * MIN));
    expect((await post(token, base)).status).toBe(202);
    for (let r = 0; r < ALERT_BURST / MAX_ALERTS_PER_BATCH + 1; r++) {
      const late = Array.from({ length: MAX_ALERTS_PER_BATCH }, (_, i) => wire(`late-${r}-${i}`, t0 - (2 + r) * DAY + i * HOUR));
      expect((await post(token, late)).status).toBe(202);
    }
    const before = await alertsQueued(cert.agent_id);
    // Now, live: the agent's own risk goes high. That alert decides an auto-revocation; it is raised.
    const res = await post(token, [wire("live-0", Date.now())]);
    expect(res.status).toBe(202);
    const risk = await (await exports.default.fetch(`http://edge/v1/verify/${cert.serial_number}`)).json<{ data: { risk: { band: string } } }>();
    expect(risk.data.risk.band).toBe("high");
    expect(await alertsQueued(cert.agent_id)).toBe(before + 1);
  });
});
