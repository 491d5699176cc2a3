import { reset, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AgentEvent } from "@kakunin/shared";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { enrolledAgent, env } from "./fixtures.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

const DAY = 86_400_000;

const post = (token: string, events: AgentEvent[]) =>
  exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ events }),
  });

const ev = (id: string, over: Partial<AgentEvent> = {}): AgentEvent => ({
  event_id: id,
  timestamp: new Date(Date.now() - 1_000).toISOString(),
  type: "tool_call",
  action: "orders.place",
  resource: `orders/${id}`,
  outcome: "success",
  ...over,
});

/**
 * A review's clear reaches the agent's monitor inside the origin's publish delivery
 * (internal_publish.ts), which handles it before it applies the batch's other records, every
 * tenant's revocations among them, and the origin waits at most 5 s for the answer. The clear
 * reads the events received since the reviewed alert (at most the last two hours). The table also
 * holds every forwarded event's id for 31 days (up to 10 M rows), and the read named no index
 * that covers them all: it scanned the whole table, and parsed every recent row's stored answer
 * in JavaScript, all of them held in memory at once.
 */
describe("a review's clear reads only the events it can be about", () => {
  it("rows read do not grow with the agent's older de-duplication ids", async () => {
    const { cert, token } = await enrolledAgent({ scopes: ["orders.*"] });
    const stub = env.AGENT_MONITOR.getByName(cert.agent_id);
    // Recent history: a few events, one of them high (out of scope).
    expect((await post(token, [ev("r-1"), ev("r-2"), ev("r-3", { type: "transaction", action: "payments.wire" })])).status).toBe(202);
    const OLD = 20_000;
    const read = await runInDurableObject(stub, async (m: AgentMonitor, state) => {
      const sql = state.storage.sql;
      // Forwarded events of days ago, kept only as de-duplication ids (payload NULL).
      const result = JSON.stringify({ event_id: "x", score: 0.9, band: "high", reasons: [] });
      const at = Date.now() - 3 * DAY;
      for (let i = 0; i < OLD; i++) sql.exec("INSERT INTO events (event_id, received_at, result, payload) VALUES (?, ?, ?, NULL)", `old-${i}`, at, result);
      const cursors: { rowsRead: number }[] = [];
      const exec = sql.exec.bind(sql);
      vi.spyOn(sql, "exec").mockImplementation(((query: string, ...bindings: unknown[]) => {
        const cursor = exec(query, ...bindings);
        cursors.push(cursor);
        return cursor;
      }) as typeof sql.exec);
      const parse = vi.spyOn(JSON, "parse");
      // The review closed an alert from two days ago: everything since then is unreviewed.
      expect(await m.acceptAsNormal("review-1", [], Date.now() - 2 * DAY, ["scope_violation"])).toEqual({ applied: true });
      const parsed = parse.mock.calls.length;
      vi.restoreAllMocks();
      return { rows: cursors.reduce((n, c) => n + c.rowsRead, 0), parsed };
    });
    expect(read.rows).toBeLessThan(OLD / 10);
    expect(read.parsed).toBeLessThan(100);
    // The unreviewed high event still counts: the clear raised a new alert naming it.
    const named = await runInDurableObject(stub, async (_m: AgentMonitor, state) =>
      state.storage.sql
        .exec<{ payload: string }>("SELECT payload FROM alerts WHERE alert_id LIKE '%:after-review'")
        .toArray()
        .map((r) => (JSON.parse(r.payload) as { event_ids: string[] }).event_ids),
    );
    expect(named).toEqual([["r-3"]]);
  });
});
