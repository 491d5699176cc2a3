import { reset, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEFAULT_SCORING, newState, scoreEvent, toScoredInput, type AgentEvent } from "@kakunin/shared";
import { MAX_ALERTS_PER_BATCH, type AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env } from "./fixtures.ts";
import { alertsQueued, DAY, HOUR, MIN, post, SCOPES, wire, work } from "./alert-fixtures.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

/**
 * Three days of an agent's history, posted within seconds as an evaluator (or a backfill) does:
 * ordinary work, an out-of-scope episode two days ago, more work, another episode a day later.
 * Each episode takes the agent's risk from low to high at its own time.
 */
function history(t0: number): AgentEvent[] {
  const out: AgentEvent[] = [];
  for (let i = 0; i < 40; i++) out.push(work(`a-${i}`, t0 - 3 * DAY + i * MIN));
  out.push(wire("ep1-0", t0 - 2 * DAY), wire("ep1-1", t0 - 2 * DAY + 10_000));
  for (let i = 0; i < 40; i++) out.push(work(`b-${i}`, t0 - 2 * DAY + 6 * HOUR + i * MIN));
  out.push(wire("ep2-0", t0 - DAY), wire("ep2-1", t0 - DAY + 10_000));
  for (let i = 0; i < 10; i++) out.push(work(`c-${i}`, t0 - DAY + 6 * HOUR + i * MIN));
  return out;
}

/** How many times the in-process scorer says the agent's risk became high over these events. */
function inProcessAlerts(events: AgentEvent[]): number {
  const s = newState();
  return events.filter((e) => scoreEvent(s, toScoredInput(e), SCOPES, DEFAULT_SCORING).risk.becameHigh).length;
}

async function alertEvents(agentId: string): Promise<string[][]> {
  return runInDurableObject(env.AGENT_MONITOR.getByName(agentId), async (_m: AgentMonitor, state) =>
    state.storage.sql
      .exec<{ payload: string }>("SELECT payload FROM alerts ORDER BY rowid")
      .toArray()
      .map((r) => (JSON.parse(r.payload) as { event_ids: string[] }).event_ids),
  );
}

/**
 * With auto_revoke off every alert joins the agent's review and is a risk.high webhook: they are
 * how an evaluator (or a tenant back-filling history) sees episodes reach high through the system.
 * Replayed history, days of claimed time in seconds of the edge's, must raise the alerts it raises
 * live and in-process, one per episode, however the agent batches it. Before, a batch raised at
 * most one alert: two episodes in one batch of history were one alert.
 */
describe("history replayed faster than real time", () => {
  it("raises one alert per episode, as the in-process scorer does, batch by batch", async () => {
    // The origin is away: alerts stay queued where they can be counted.
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const { cert, token } = await enrolledAgent({ scopes: SCOPES });
    const events = history(Date.now());
    for (let i = 0; i < events.length; i += 10) expect((await post(token, events.slice(i, i + 10))).status).toBe(202);
    const expected = inProcessAlerts(events);
    expect(expected).toBe(2);
    expect(await alertsQueued(cert.agent_id)).toBe(expected);
  });

  it("raises one alert per episode when both episodes arrive in one batch", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const { cert, token } = await enrolledAgent({ scopes: SCOPES });
    const events = history(Date.now());
    expect((await post(token, events)).status).toBe(202);
    expect(await alertsQueued(cert.agent_id)).toBe(inProcessAlerts(events));
    // Each alert names its own episode's high events.
    expect(await alertEvents(cert.agent_id)).toEqual([
      ["ep1-0", "ep1-1"],
      ["ep2-0", "ep2-1"],
    ]);
  });

  it("an episode seconds after the last alert, by both clocks, is the same episode: no second alert", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const { cert, token } = await enrolledAgent({ scopes: SCOPES });
    const t0 = Date.now();
    const base = Array.from({ length: 40 }, (_, i) => work(`w-${i}`, t0 - 50 * MIN + i * MIN));
    expect((await post(token, base)).status).toBe(202);
    expect((await post(token, [wire("x-0", t0 - 20_000), wire("x-1", t0 - 10_000)])).status).toBe(202);
    expect((await post(token, [wire("x-2", t0)])).status).toBe(202);
    expect(await alertsQueued(cert.agent_id)).toBe(1);
  });

  it("a batch raises at most MAX_ALERTS_PER_BATCH alerts: late events high on their own cannot make one request a thousand", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("{}", { status: 503 }));
    const { cert, token } = await enrolledAgent({ scopes: SCOPES });
    const t0 = Date.now();
    const base = Array.from({ length: 40 }, (_, i) => work(`w-${i}`, t0 - 50 * MIN + i * MIN));
    expect((await post(token, base)).status).toBe(202);
    // Back-dated out-of-scope wires: each high at its own time, the agent's current risk untouched.
    const late = Array.from({ length: 100 }, (_, i) => wire(`late-${i}`, t0 - 2 * DAY + (i * HOUR) / 4));
    const res = await post(token, late);
    expect(res.status).toBe(202);
    const bands = (await res.json<{ data: { results: { band: string }[] } }>()).data.results.map((r) => r.band);
    expect(bands.filter((b) => b === "high").length).toBeGreaterThan(MAX_ALERTS_PER_BATCH);
    expect(inProcessAlerts([...base, ...late])).toBeGreaterThan(MAX_ALERTS_PER_BATCH);
    const named = await alertEvents(cert.agent_id);
    expect(named).toHaveLength(MAX_ALERTS_PER_BATCH);
    // Every high event of the batch is still named by one of them.
    expect(named.flat().sort()).toEqual(
      late
        .filter((_, i) => bands[i] === "high")
        .map((e) => e.event_id)
        .sort(),
    );
  });
});
