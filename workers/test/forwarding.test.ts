import { reset, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { type certRec, enrolledAgent, env } from "./fixtures.ts";

// The origin here is a stand-in answering as a real one would (or as a proxy in front of it
// would: 408, 429); test/delivery.e2e.test.ts runs the same paths against the real origin.
afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

interface Problem { type: string; status: number; errors?: { path: string; message: string }[] }

async function monitoredAgent() {
  const { cert, token } = await enrolledAgent();
  return { cert, token, stub: env.AGENT_MONITOR.getByName(cert.agent_id) };
}

const ev = (i: number, over: Record<string, unknown> = {}) => ({
  event_id: `e-${i}`, timestamp: new Date(Date.now() - 60_000 + i * 10).toISOString(), type: "tool_call", action: "orders.place",
  resource: `orders/${i}`, amount: 100, currency: "EUR", outcome: "success", latency_ms: 120, ...over,
});

const post = (token: string, body: string | Uint8Array) =>
  exports.default.fetch("http://edge/v1/events", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body });

interface Call { path: string; bytes: number; body: string }

/** Replaces the origin: `answer` decides each call's status from its path and body. */
function fakeOrigin(answer: (path: string, body: string, bytes: number) => number): Call[] {
  const calls: Call[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
    const body = String(init?.body ?? "");
    const bytes = new TextEncoder().encode(body).byteLength;
    calls.push({ path, bytes, body });
    const status = answer(path, body, bytes);
    if (status === 0) throw new TypeError("connection refused");
    const type = status === 426 ? "urn:kakunin:problem:unsupported-wire-version" : "urn:kakunin:problem:x";
    return new Response(JSON.stringify(status < 300 ? { data: { stored: 1, duplicates: 0, rejected: 0, decision: "revoked" } } : { type, status }), { status });
  });
  return calls;
}

const pending = (stub: DurableObjectStub<AgentMonitor>) => runInDurableObject(stub, async (m: AgentMonitor) => m.pendingForwards());
const letters = (stub: DurableObjectStub<AgentMonitor>) => runInDurableObject(stub, async (m: AgentMonitor) => m.deadLetters());
/** Makes every per-record retry due now (instead of waiting out its backoff). */
const fastForward = (stub: DurableObjectStub<AgentMonitor>) =>
  runInDurableObject(stub, async (_m: AgentMonitor, state) => {
    state.storage.sql.exec("UPDATE forward_failures SET next_at = 0");
    await state.storage.setAlarm(Date.now());
  });

describe("malformed Unicode is refused at ingest, naming the field", () => {
  it("a lone surrogate in a value, a key or a nested attribute → 422 with its path; nothing accepted", async () => {
    const { token, stub } = await monitoredAgent();
    fakeOrigin(() => 200);
    const one = await post(token, JSON.stringify(ev(1, { action: "payments.wire\ud800" })));
    expect(one.status).toBe(422);
    expect((await one.json<Problem>()).errors!.map((e) => e.path)).toEqual(["action"]);
    const batch = await post(token, JSON.stringify({ events: [ev(2), ev(3, { attributes: { meta: { note: "x\udc00y" } } }), ev(4, { attributes: { ["k\ud83d"]: 1 } })] }));
    expect(batch.status).toBe(422);
    const paths = (await batch.json<Problem>()).errors!.map((e) => e.path);
    expect(paths).toEqual(["events.1.attributes.meta.note", "events.2.attributes.k\ud83d"]);
    // A well-formed pair (an emoji) is fine.
    expect((await post(token, JSON.stringify(ev(5, { action: "chat.send\ud83d\ude00" })))).status).toBe(202);
    expect(await runInDurableObject(stub, async (m: AgentMonitor) => m.risk("x").events_scored)).toBe(1);
  });

  it("bytes that are not UTF-8 → 422 naming the field, not a silent U+FFFD", async () => {
    const { token } = await monitoredAgent();
    const text = JSON.stringify(ev(1, { resource: "orders/XX" }));
    const bytes = new TextEncoder().encode(text);
    const at = text.indexOf("XX");
    bytes[at] = 0xff;
    bytes[at + 1] = 0xfe;
    const r = await post(token, bytes);
    expect(r.status).toBe(422);
    expect((await r.json<Problem>()).errors!.map((e) => e.path)).toEqual(["resource"]);
  });
});

describe("nesting deeper than MAX_JSON_DEPTH is refused at ingest, naming the field", () => {
  /** `levels` objects nested in one another: {k:{k:…{k:1}}}. */
  const nest = (levels: number): unknown => { let v: unknown = 1; for (let i = 0; i < levels; i++) v = { k: v }; return v; };

  it("attributes nested thousands deep → 422 with the path, never a 500 or a 202 the origin cannot store", async () => {
    const { token, stub } = await monitoredAgent();
    fakeOrigin(() => 200);
    for (const levels of [2_000, 3_000, 100_000]) {
      // Built as text: JSON.stringify itself recurses, as the old checks did.
      const text = JSON.stringify(ev(levels, { attributes: "@" })).replace('"@"', '{"k":'.repeat(levels) + "1" + "}".repeat(levels));
      const r = await post(token, text);
      expect(r.status, `depth ${levels}`).toBe(422);
    }
    const deep = await post(token, JSON.stringify({ events: [ev(1), ev(2, { attributes: { a: [nest(1_000)] } })] }));
    expect(deep.status).toBe(422);
    const body = await deep.json<Problem & { detail: string }>();
    expect(body.detail).toMatch(/nested more than 64 levels deep; nothing was accepted/);
    expect(body.errors!).toHaveLength(1);
    expect(body.errors![0]!.path).toBe(["events", 1, "attributes", "a", 0, ...Array<string>(59).fill("k")].join("."));
    // As deep as allowed (the body is level 1, attributes level 2, the deepest object level 64): accepted.
    expect((await post(token, JSON.stringify(ev(3, { attributes: nest(63) })))).status).toBe(202);
    expect((await post(token, JSON.stringify(ev(4, { attributes: nest(64) })))).status).toBe(422);
    // A key named __proto__ (dropped or turned into a prototype by any copy of the object): refused, named.
    const proto = await post(token, JSON.stringify(ev(5)).replace('"event_id"', '"attributes":{"a":{"__proto__":{"x":1}}},"event_id"'));
    expect(proto.status).toBe(422);
    expect((await proto.json<Problem>()).errors!.map((e) => e.path)).toEqual(["attributes.a.__proto__"]);
    expect(await runInDurableObject(stub, async (m: AgentMonitor) => m.risk("x").events_scored)).toBe(1);
  });
});

describe("forwarding to the origin", () => {
  it("counts UTF-8 bytes: 182 events of CJK text with 8 KiB attributes never make a body over the origin's 1 MiB", async () => {
    const { token, stub } = await monitoredAgent();
    const calls = fakeOrigin((path, _b, bytes) => (bytes > 1024 * 1024 ? 413 : 200));
    const cjk = "監査証跡".repeat(680); // 2720 chars, 8160 UTF-8 bytes
    for (let i = 0; i < 182; i += 60) {
      const events = Array.from({ length: Math.min(60, 182 - i) }, (_, k) => ev(i + k, { action: "記録.書込", attributes: { note: cjk } }));
      expect((await post(token, JSON.stringify({ events }))).status).toBe(202);
    }
    await runDurableObjectAlarm(stub);
    const events = calls.filter((c) => c.path === "/internal/v1/events");
    expect(events.length).toBeGreaterThan(0);
    expect(Math.max(...events.map((c) => c.bytes))).toBeLessThanOrEqual(1024 * 1024);
    await vi.waitFor(async () => expect(await pending(stub)).toBe(0));
  });

  it("one refused event never holds back the others: bisected out, retried alone with backoff, then dead-lettered and reported", async () => {
    const { token, stub, cert } = await monitoredAgent();
    // The origin refuses any body holding the poison event (as it did with a 500 for a lone surrogate).
    const calls = fakeOrigin((path, body) => (path === "/internal/v1/events" && body.includes('"e-poison"') ? 500 : 200));
    const events = [ev(1), ev(2), ev(3, { event_id: "e-poison" }), ev(4), ev(5)];
    expect((await post(token, JSON.stringify({ events }))).status).toBe(202);
    await runDurableObjectAlarm(stub);
    const stored = new Set(calls.filter((c) => c.path === "/internal/v1/events" && !c.body.includes("e-poison"))
      .flatMap((c) => (JSON.parse(c.body) as { events: { event: { event_id: string } }[] }).events.map((e) => e.event.event_id)));
    expect([...stored].sort()).toEqual(["e-1", "e-2", "e-4", "e-5"]);
    expect(await pending(stub)).toBe(1);
    // Later events of the agent are not held back either.
    expect((await post(token, JSON.stringify(ev(6)))).status).toBe(202);
    await runDurableObjectAlarm(stub);
    expect(calls.some((c) => c.body.includes('"e-6"') && !c.body.includes("e-poison"))).toBe(true);
    expect(await pending(stub)).toBe(1);
    // Bounded: after its attempts it becomes a dead letter (visible, logged, reported to the origin).
    for (let i = 0; i < 8 && (await pending(stub)) > 0; i++) {
      await fastForward(stub);
      await runDurableObjectAlarm(stub);
    }
    expect(await pending(stub)).toBe(0);
    const dead = await letters(stub);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ kind: "event", ref: "e-poison", status: 500, reported: 1 });
    const report = calls.find((c) => c.path === "/internal/v1/dead-letters");
    expect(JSON.parse(report!.body)).toMatchObject({ letters: [{ kind: "event", ref: "e-poison", agent_id: cert.agent_id, tenant_id: cert.tenant_id }] });
  });

  it("an unreachable or overloaded origin (0, 408, 429, 503) holds everything: nothing is split off or dead-lettered", async () => {
    const { token, stub } = await monitoredAgent();
    let status = 429;
    const calls = fakeOrigin(() => status);
    expect((await post(token, JSON.stringify({ events: [ev(1), ev(2), ev(3)] }))).status).toBe(202);
    for (const s of [429, 408, 503, 426, 0]) {
      status = s;
      await runInDurableObject(stub, async (_m: AgentMonitor, state) => state.storage.setAlarm(Date.now()));
      await runDurableObjectAlarm(stub);
    }
    // No bisection on a hold: every attempt carried the whole batch.
    const sent = calls.filter((c) => c.path === "/internal/v1/events");
    expect(sent.length).toBeGreaterThanOrEqual(2);
    for (const c of sent) expect((JSON.parse(c.body) as { events: unknown[] }).events).toHaveLength(3);
    expect(await pending(stub)).toBe(3);
    expect(await letters(stub)).toEqual([]);
    status = 200;
    await runInDurableObject(stub, async (_m: AgentMonitor, state) => state.storage.setAlarm(Date.now()));
    await vi.waitFor(async () => expect(await pending(stub)).toBe(0));
  });
});

describe("risk alerts", () => {
  async function queueAlert(stub: DurableObjectStub<AgentMonitor>, cert: ReturnType<typeof certRec>) {
    await runInDurableObject(stub, async (_m: AgentMonitor, state) => {
      const payload = { alert_id: "a-1", agent_id: cert.agent_id, tenant_id: cert.tenant_id, serial_number: cert.serial_number, score: 0.9, reasons: [], event_ids: [], triggered_at: new Date().toISOString() };
      state.storage.sql.exec("INSERT INTO alerts (alert_id, payload, created_at) VALUES ('a-1', ?, ?)", JSON.stringify(payload), Date.now());
      await state.storage.setAlarm(Date.now());
    });
  }
  const alertsLeft = (stub: DurableObjectStub<AgentMonitor>) =>
    runInDurableObject(stub, async (_m: AgentMonitor, state) => state.storage.sql.exec("SELECT alert_id FROM alerts").toArray().length);

  it("a proxy's 408 or 429 keeps the alert for a retry (it decides an auto-revocation)", async () => {
    const { stub, cert } = await monitoredAgent();
    let status = 408;
    fakeOrigin(() => status);
    await queueAlert(stub, cert);
    await runDurableObjectAlarm(stub);
    expect(await alertsLeft(stub)).toBe(1);
    status = 429;
    await runInDurableObject(stub, async (_m: AgentMonitor, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(stub);
    expect(await alertsLeft(stub)).toBe(1);
    status = 200;
    await runInDurableObject(stub, async (_m: AgentMonitor, state) => state.storage.setAlarm(Date.now()));
    await vi.waitFor(async () => expect(await alertsLeft(stub)).toBe(0));
    expect(await letters(stub)).toEqual([]);
  });

  it("dropped only on 404 (agent gone), and then kept as a dead letter", async () => {
    const { stub, cert } = await monitoredAgent();
    fakeOrigin((path) => (path === "/internal/v1/risk-alerts" ? 404 : 200));
    await queueAlert(stub, cert);
    await runDurableObjectAlarm(stub);
    await vi.waitFor(async () => expect(await alertsLeft(stub)).toBe(0));
    expect((await letters(stub)).map((l) => [l.kind, l.ref, l.status])).toEqual([["alert", "a-1", 404]]);
  });
});

describe("the forwarding alarm", () => {
  it("is armed before the KV risk write, so a failing write leaves nothing unforwarded (and no 500)", async () => {
    const { stub, cert } = await monitoredAgent();
    const alarm = await runInDurableObject(stub, async (m: AgentMonitor, state) => {
      (m as unknown as { publishRisk: () => Promise<void> }).publishRisk = async () => {
        throw new Error("KV write failed");
      };
      await m.ingest({ agentId: cert.agent_id, tenantId: cert.tenant_id, serial: cert.serial_number, scopes: cert.scopes }, [ev(1) as never]);
      return state.storage.getAlarm();
    });
    expect(alarm).not.toBeNull();
  });
});
