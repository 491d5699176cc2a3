import { reset, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { mintIngestToken } from "@kakunin/shared";
import type { AgentMonitor } from "../src/monitor/agent-monitor.ts";
import { agentRec, enrolledAgent, env, nextV, publish, SECRET } from "./fixtures.ts";

afterEach(async () => { await reset(); });

interface Outcome { data: { accepted: number; duplicates: number; results: { event_id: string; score: number; band: string; reasons: { feature: string }[]; duplicate?: boolean }[] } }
interface Problem { type: string; status: number; detail: string; errors?: { path: string; message: string }[] }

const ev = (i: number, over: Record<string, unknown> = {}) => ({
  event_id: `e-${i}`, timestamp: new Date(Date.now() - 60_000 + i * 10).toISOString(), type: "tool_call", action: "orders.place",
  resource: `orders/${i}`, amount: 100 + i, currency: "EUR", outcome: "success", latency_ms: 120, ...over,
});

const post = (token: string | null, body: unknown, headers: Record<string, string> = {}) =>
  exports.default.fetch("http://edge/v1/events", {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

describe("POST /v1/events", () => {
  it("accepts one event or a batch; 202 with a score, band and reasons per event", async () => {
    const { token } = await enrolledAgent();
    const one = await post(token, ev(0));
    expect(one.status).toBe(202);
    const b1 = await one.json<Outcome>();
    expect(b1.data).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(b1.data.results[0]).toMatchObject({ event_id: "e-0", band: expect.stringMatching(/low|medium|high/) });
    const batch = await post(token, { events: [ev(1), ev(2), ev(3)] });
    const b2 = await batch.json<Outcome>();
    expect(b2.data.accepted).toBe(3);
    expect(b2.data.results.map((r) => r.event_id)).toEqual(["e-1", "e-2", "e-3"]);
    for (const r of b2.data.results) {
      expect(r.score).toBeGreaterThanOrEqual(0);
      expect(r.score).toBeLessThanOrEqual(1);
    }
  });

  it("a duplicate event_id is acknowledged and never scored twice, within and across batches", async () => {
    const { cert, token } = await enrolledAgent();
    const first = await (await post(token, { events: [ev(1), ev(2), ev(1)] })).json<Outcome>();
    expect(first.data).toMatchObject({ accepted: 2, duplicates: 1 });
    expect(first.data.results[2]).toMatchObject({ event_id: "e-1", duplicate: true, score: first.data.results[0]!.score });
    const again = await (await post(token, { events: [ev(2), ev(3)] })).json<Outcome>();
    expect(again.data).toMatchObject({ accepted: 1, duplicates: 1 });
    const n = await runInDurableObject(env.AGENT_MONITOR.getByName(cert.agent_id), async (m: AgentMonitor) => m.risk(cert.agent_id).events_scored);
    expect(n).toBe(3);
  });

  it("a batch with any invalid event is refused whole: 422 lists each index and field", async () => {
    const { cert, token } = await enrolledAgent();
    const r = await post(token, { events: [ev(1), ev(2, { amount: -5 }), ev(3, { type: "bogus", outcome: undefined }), ev(4, { timestamp: new Date(Date.now() - 40 * 86_400_000).toISOString() })] });
    expect(r.status).toBe(422);
    const p = await r.json<Problem>();
    expect(p.errors!.map((e) => e.path).sort()).toEqual(["events.1.amount", "events.2.outcome", "events.2.type", "events.3.timestamp"]);
    const n = await runInDurableObject(env.AGENT_MONITOR.getByName(cert.agent_id), async (m: AgentMonitor) => m.risk(cert.agent_id).events_scored);
    expect(n).toBe(0);
  });

  it("an event stamped 30 days before it was sent is accepted although it arrives a moment later; 31 days is refused", async () => {
    const { token } = await enrolledAgent();
    // A client stamps "30 days ago" and the request takes time to arrive (or its clock runs a little
    // ahead): the contract accepts events up to 30 days old, so that boundary must not be a race.
    const thirty = await post(token, ev(1, { timestamp: new Date(Date.now() - 30 * 86_400_000 - 2_000).toISOString() }));
    expect(thirty.status).toBe(202);
    const older = await post(token, ev(2, { timestamp: new Date(Date.now() - 31 * 86_400_000).toISOString() }));
    expect(older.status).toBe(422);
    expect((await older.json<Problem>()).errors).toEqual([{ path: "timestamp", message: "older than 30 days" }]);
  });

  it("RFC 3339 allows lower-case t and z: accepted, as the same instant", async () => {
    const { token } = await enrolledAgent();
    const at = new Date(Date.now() - 60_000).toISOString();
    const r = await post(token, ev(1, { timestamp: at.replace("T", "t").replace("Z", "z") }));
    expect(r.status).toBe(202);
    expect((await post(token, ev(2, { timestamp: at.replace("T", " ") }))).status).toBe(422); // outside the grammar (its NOTE allows a space only by agreement)
  });

  it("an empty event_id or action is one error each, saying it is empty (not a charset complaint)", async () => {
    const { token } = await enrolledAgent();
    const r = await post(token, ev(1, { event_id: "", action: "" }));
    expect(r.status).toBe(422);
    const errors = (await r.json<Problem>()).errors!;
    expect(errors.map((e) => e.path).sort()).toEqual(["action", "event_id"]);
    for (const e of errors) expect(e.message).toMatch(/>=1 character/);
  });

  it("limits: 1000 events per batch, 8 KiB of attributes, 1 MiB per request, each a 413 (design: bodies over the limit → 413) naming where", async () => {
    const { token } = await enrolledAgent();
    const tooMany = await post(token, { events: Array.from({ length: 1001 }, (_, i) => ev(i)) });
    expect(tooMany.status).toBe(413);
    expect(tooMany.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect((await tooMany.json<Problem>()).errors).toEqual([{ path: "events", message: "at most 1000 events per batch" }]);
    const fat = await post(token, ev(1, { attributes: { blob: "x".repeat(9000) } }));
    expect(fat.status).toBe(413);
    expect((await fat.json<Problem>()).errors![0]!.path).toBe("attributes");
    // In a batch, the event is named; the limit counts UTF-8 bytes, and a schema error elsewhere does not hide it.
    const fatInBatch = await post(token, { events: [ev(2, { action: "" }), ev(3, { attributes: { note: "監".repeat(2800) } })] });
    expect(fatInBatch.status).toBe(413);
    expect((await fatInBatch.json<Problem>()).errors!.map((e) => e.path)).toEqual(["events.1.attributes"]);
    // Exactly at the limits is accepted.
    expect((await post(token, ev(4, { attributes: { blob: "x".repeat(8192 - '{"blob":""}'.length) } }))).status).toBe(202);
    const huge = await post(token, { events: Array.from({ length: 900 }, (_, i) => ev(i, { attributes: { blob: "y".repeat(1500) } })) });
    expect(huge.status).toBe(413);
  });

  it("400 malformed JSON, 415 wrong content type, 422 for shapes that are not events", async () => {
    const { token } = await enrolledAgent();
    expect((await post(token, "{oops")).status).toBe(400);
    expect((await post(token, "a=b", { "content-type": "application/x-www-form-urlencoded" })).status).toBe(415);
    for (const body of [[], "null", { events: [] }, { events: "x" }, { events: [ev(1)], extra: 1 }]) {
      expect((await post(token, body)).status, JSON.stringify(body)).toBe(422);
    }
  });

  it("401 without a token, with a forged or expired one", async () => {
    const { cert } = await enrolledAgent();
    expect((await post(null, ev(1))).status).toBe(401);
    const now = Math.floor(Date.now() / 1000);
    const claims = { agent_id: cert.agent_id, tenant_id: cert.tenant_id, serial: cert.serial_number, iat: now, jti: "j" };
    const forged = await mintIngestToken("some-other-secret-some-other-secret", { ...claims, exp: now + 60 });
    expect((await post(forged, ev(1))).status).toBe(401);
    const expired = await mintIngestToken(SECRET, { ...claims, iat: now - 120, exp: now - 60 });
    const r = await post(expired, ev(1));
    expect(r.status).toBe(401);
    expect((await r.json<Problem>()).detail).toContain("expired");
  });

  it("403 once the token's certificate is revoked or replaced", async () => {
    const { cert, token } = await enrolledAgent();
    expect((await post(token, ev(1))).status).toBe(202);
    await publish([{ ...cert, v: nextV(), status: "revoked", revoked_at: new Date().toISOString(), revocation_reason: "risk_threshold" }]);
    const r = await post(token, ev(2));
    expect(r.status).toBe(403);
    expect((await r.json<Problem>()).detail).toContain("revoked");
    const other = await enrolledAgent();
    await publish([agentRec({ agent_id: other.cert.agent_id, tenant_id: other.cert.tenant_id, current_serial: "4" + "1".repeat(31) })]);
    expect((await post(other.token, ev(1))).status).toBe(403);
  });
});

describe("GET /v1/agents/:id/risk", () => {
  it("an agent reads its own risk; a token for agent A can never read (or post for) agent B", async () => {
    const a = await enrolledAgent();
    const b = await enrolledAgent();
    await post(a.token, { events: [ev(1), ev(2)] });
    const own = await exports.default.fetch(`http://edge/v1/agents/${a.cert.agent_id}/risk`, { headers: { authorization: `Bearer ${a.token}` } });
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ data: { agent_id: a.cert.agent_id, events_scored: 2, band: expect.any(String) } });
    // A UUID in upper case is the same agent, and its one monitor.
    const upper = await exports.default.fetch(`http://edge/v1/agents/${a.cert.agent_id.toUpperCase()}/risk`, { headers: { authorization: `Bearer ${a.token}` } });
    expect(await upper.json()).toMatchObject({ data: { agent_id: a.cert.agent_id, events_scored: 2 } });
    // Any other agent, the same tenant's or none at all, is 404 alike (design: outside the caller's reach is 404, like a missing record).
    const other = async (id: string) => {
      const r = await exports.default.fetch(`http://edge/v1/agents/${id}/risk`, { headers: { authorization: `Bearer ${a.token}` } });
      return { status: r.status, type: (await r.json<Problem>()).type };
    };
    expect(await other(b.cert.agent_id)).toEqual({ status: 404, type: "urn:kakunin:problem:not-found" });
    expect(await other(crypto.randomUUID())).toEqual(await other(b.cert.agent_id));
    // Events posted with A's token land in A's monitor, whatever the body says.
    await post(a.token, ev(9, { attributes: { agent_id: b.cert.agent_id } }));
    const bScored = await runInDurableObject(env.AGENT_MONITOR.getByName(b.cert.agent_id), async (m: AgentMonitor) => m.risk(b.cert.agent_id).events_scored);
    expect(bScored).toBe(0);
  });
});

describe("ingest right after certification", () => {
  it("a KV miss falls back to the ledger; a certificate not delivered yet is 503 with Retry-After (retryable), not 403", async () => {
    const { cert, token } = await enrolledAgent();
    // KV has not caught up (or cached a miss): the ledger still knows the certificate.
    await env.CERT_STATUS.delete(`cert:${cert.serial_number}`);
    expect((await post(token, ev(1))).status).toBe(202);
    const now = Math.floor(Date.now() / 1000);
    const early = await mintIngestToken(SECRET, { agent_id: crypto.randomUUID(), tenant_id: cert.tenant_id, serial: "4" + "2".repeat(31), iat: now, exp: now + 60, jti: "j" });
    const r = await post(early, ev(1));
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("1");
  });
});
