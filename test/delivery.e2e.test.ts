import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody } from "../origin/test/harness.ts";
import { pollUntil, startSystem, systemFixture, type RunningSystem } from "./support/system.ts";

/**
 * Poison isolation through the real edge (workerd) and the real origin (Node): what the edge
 * accepts reaches the origin, and one record the origin refuses never holds back the others.
 */
function harness(originEnv: Record<string, string> = {}) {
  const fx = systemFixture();
  const h = {
    sys: undefined as unknown as RunningSystem,
    async start() { h.sys = await startSystem(fx, originEnv); },
    async stop() { await h.sys?.stop(); fx.cleanup(); },
    async api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
      const r = await fetch(`${h.sys.origin.url}${path}`, {
        method, headers: { authorization: `Bearer ${fx.adminKey}`, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined,
      });
      return { status: r.status, body: (await r.json()) as T };
    },
    async enrolled() {
      const agent = (await h.api<{ data: { id: string } }>("POST", "/v1/agents", agentBody({ scopes: ["*"] }))).body.data.id;
      const cert = (await h.api<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
      const token = (await h.api<{ data: { token: string } }>("POST", `/v1/agents/${agent}/ingest-tokens`, {})).body.data.token;
      await pollUntil(async () => ((await fetch(`${h.sys.edge.url}/v1/verify/${cert.serial_number}`)).status === 200 ? true : undefined), 15_000);
      return { agent, token };
    },
    post: (token: string, body: string) =>
      fetch(`${h.sys.edge.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body }),
    async stored(agent: string): Promise<string[]> {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { data: { event_id: string }[]; next_cursor: string | null } } = await h.api("GET", `/v1/agents/${agent}/events?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
        ids.push(...page.body.data.map((e) => e.event_id));
        cursor = page.body.next_cursor;
      } while (cursor);
      return ids;
    },
  };
  return h;
}

const ev = (id: string, over: Record<string, unknown> = {}) => ({
  event_id: id, timestamp: new Date(Date.now() - 60_000).toISOString(), type: "tool_call", action: "orders.place", outcome: "success", ...over,
});

describe("forwarding to the real origin", () => {
  const h = harness();
  beforeAll(() => h.start(), 180_000);
  afterAll(() => h.stop());

  it("a lone surrogate is refused at the edge with 422 naming the field; the agent's later events reach the origin", async () => {
    const { agent, token } = await h.enrolled();
    const bad = await h.post(token, JSON.stringify(ev("p-1", { action: "payments.wire\ud800" })));
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(["action"]);
    expect((await h.post(token, JSON.stringify({ events: [ev("p-2"), ev("p-3")] }))).status).toBe(202);
    await pollUntil(async () => ((await h.stored(agent)).length === 2 ? true : undefined), 20_000);
    expect((await h.stored(agent)).sort()).toEqual(["p-2", "p-3"]);
  });

  it("182 events of CJK text with 8 KiB attributes (2.1 MB of UTF-8) all reach the origin", async () => {
    const { agent, token } = await h.enrolled();
    const cjk = "監査証跡".repeat(680); // 8160 UTF-8 bytes, 2720 UTF-16 code units
    for (let i = 0; i < 182; i += 60) {
      const events = Array.from({ length: Math.min(60, 182 - i) }, (_, k) => ev(`cjk-${i + k}`, { action: "記録.書込", attributes: { note: cjk } }));
      expect((await h.post(token, JSON.stringify({ events }))).status).toBe(202);
    }
    await pollUntil(async () => ((await h.stored(agent)).length === 182 ? true : undefined), 45_000, 250);
  }, 90_000);
});

describe("an event the real origin refuses (its body limit is lowered below one event)", () => {
  const h = harness({ KAKUNIN_MAX_BODY_BYTES: "8192" });
  beforeAll(() => h.start(), 180_000);
  afterAll(() => h.stop());

  it("is split off and retried alone; every other event of the agent is stored", async () => {
    const { agent, token } = await h.enrolled();
    const big = ev("big", { attributes: { blob: "x".repeat(8000) } }); // ~8.4 KB forwarded: over the origin's 8 KiB alone
    const events = [ev("s-1"), ev("s-2"), big, ev("s-3"), ev("s-4")];
    expect((await h.post(token, JSON.stringify({ events }))).status).toBe(202);
    await pollUntil(async () => ((await h.stored(agent)).length === 4 ? true : undefined), 20_000, 100);
    expect((await h.stored(agent)).sort()).toEqual(["s-1", "s-2", "s-3", "s-4"]);
    // Later events are not held back either.
    expect((await h.post(token, JSON.stringify(ev("s-5")))).status).toBe(202);
    await pollUntil(async () => ((await h.stored(agent)).includes("s-5") ? true : undefined), 20_000, 100);
  }, 60_000);
});
