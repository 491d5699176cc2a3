import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody } from "../origin/test/harness.ts";
import { pollUntil, startSystem, systemFixture, type RunningSystem } from "./support/system.ts";

interface Outcome { data: { accepted: number; duplicates: number; results: { event_id: string; score: number; band: string; reasons: { feature: string }[] }[] } }

/** Behaviour ingest through the real edge (workerd) and origin (Node) processes. */
describe("behaviour ingest, end to end", () => {
  const fx = systemFixture();
  let sys: RunningSystem;
  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const r = await fetch(`${sys.origin.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${fx.adminKey}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: r.status, body: (await r.json()) as T };
  };
  const postEvents = async (token: string, events: unknown[]) => {
    const r = await fetch(`${sys.edge.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ events }) });
    return { status: r.status, body: (await r.json()) as Outcome };
  };
  async function enrolled(scopes: string[]) {
    const agent = (await api<{ data: { id: string } }>("POST", "/v1/agents", agentBody({ scopes }))).body.data.id;
    const cert = (await api<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const token = (await api<{ data: { token: string } }>("POST", `/v1/agents/${agent}/ingest-tokens`, {})).body.data.token;
    await pollUntil(async () => ((await fetch(`${sys.edge.url}/v1/verify/${cert.serial_number}`)).status === 200 ? true : undefined), 10_000);
    return { agent, cert, token };
  }
  /** A trading agent's ordinary day: quotes and orders of ~100 EUR, a few per minute. */
  function normalTraffic(n: number, startMs: number, prefix: string) {
    return Array.from({ length: n }, (_, i) => {
      const a = i % 3 === 0 ? "orders.place" : "orders.quote";
      return {
        event_id: `${prefix}-${i}`, timestamp: new Date(startMs + i * 20_000).toISOString(), type: "tool_call", action: a,
        resource: `instrument/EURUSD`, amount: a === "orders.place" ? 90 + ((i * 37) % 25) : undefined, currency: a === "orders.place" ? "EUR" : undefined,
        outcome: i % 50 === 7 ? "error" : "success", latency_ms: 80 + (i % 7) * 5,
      };
    });
  }

  beforeAll(async () => {
    sys = await startSystem(fx);
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
    fx.cleanup();
  });

  it("certify, mint a token and post at once: the events are accepted (the token is handed out once the edge holds the certificate)", async () => {
    for (let i = 0; i < 3; i++) {
      const agent = (await api<{ data: { id: string } }>("POST", "/v1/agents", agentBody({ scopes: ["orders.*"] }))).body.data.id;
      expect((await api("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
      const minted = await api<{ data: { token: string } }>("POST", `/v1/agents/${agent}/ingest-tokens`);
      expect(minted.status).toBe(201);
      // No polling in between: a client following the contract posts right away, and gets 202, not 503.
      const r = await postEvents(minted.body.data.token, [{ event_id: `at-once-${i}`, timestamp: new Date().toISOString(), type: "tool_call", action: "orders.place", outcome: "success" }]);
      expect(r.status).toBe(202);
      expect(r.body.data.accepted).toBe(1);
    }
  });

  it("an agent credential reads its own agent's risk with its key (GET /v1/agents/:id/risk at the origin); another agent's is 404", async () => {
    const { agent, token } = await enrolled(["orders.*"]);
    const other = (await enrolled(["orders.*"])).agent;
    expect((await postEvents(token, [{ event_id: "r-1", timestamp: new Date().toISOString(), type: "tool_call", action: "orders.place", outcome: "success" }])).status).toBe(202);
    const cred = (await api<{ data: { key: string } }>("POST", `/v1/agents/${agent}/credentials`, { name: "runtime" })).body.data.key;
    const read = (path: string, key: string) => fetch(`${sys.origin.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
    const mine = await read(`/v1/agents/${agent}/risk`, cred);
    expect(mine.status).toBe(200);
    expect(((await mine.json()) as { data: unknown }).data).toMatchObject({ agent_id: agent, band: expect.stringMatching(/low|medium|high/), reasons: expect.any(Array) });
    expect((await read(`/v1/agents/${other}/risk`, cred)).status).toBe(404);
    expect((await read(`/v1/agents/${agent}/risk`, fx.adminKey)).status).toBe(200);
  });

  it("normal traffic stays low; an anomalous burst goes high; the certificate is auto-revoked and verify shows it", async () => {
    const { agent, cert, token } = await enrolled(["orders.*"]);
    const start = Date.now() - 3 * 3600_000;
    const normal = normalTraffic(400, start, "n");
    for (let i = 0; i < normal.length; i += 100) {
      const r = await postEvents(token, normal.slice(i, i + 100));
      expect(r.status).toBe(202);
      expect(r.body.data.results.filter((x) => x.band === "high")).toEqual([]);
    }
    expect((await fetch(`${sys.edge.url}/v1/verify/${cert.serial_number}`).then((r) => r.json()) as { data: { status: string } }).data.status).toBe("active");
    // The burst: a flood of transfers the agent was never granted, with huge amounts.
    const t0 = Date.now() - 60_000;
    const attack = Array.from({ length: 30 }, (_, i) => ({
      event_id: `x-${i}`, timestamp: new Date(t0 + i * 500).toISOString(), type: "transaction", action: "payments.transfer",
      resource: `accounts/${9000 + i}`, amount: 250_000, currency: "EUR", outcome: "success",
    }));
    const r = await postEvents(token, attack);
    expect(r.status).toBe(202);
    const high = r.body.data.results.filter((x) => x.band === "high");
    expect(high.length).toBeGreaterThan(0);
    expect(high[0]!.reasons.map((x) => x.feature)).toContain("out_of_scope");
    const revoked = await pollUntil(async () => {
      const v = (await (await fetch(`${sys.edge.url}/v1/verify/${cert.serial_number}`)).json()) as { data: { status: string; revocation_reason: string; risk: { band: string } } };
      return v.data.status === "revoked" ? v.data : undefined;
    }, 15_000, 50);
    expect(revoked.value).toMatchObject({ revocation_reason: "risk_threshold", risk: { band: "high" } });
    // The revoked agent's token no longer posts.
    expect((await postEvents(token, normalTraffic(1, Date.now() - 1000, "after"))).status).toBe(403);
    const a = await api<{ data: { status: string } }>("GET", `/v1/agents/${agent}`);
    expect(a.body.data.status).toBe("suspended");
  });

  it("events posted while the origin is down all reach it exactly once after it restarts", async () => {
    const { agent, token } = await enrolled(["orders.*"]);
    const events = normalTraffic(120, Date.now() - 3600_000, "down");
    await sys.origin.stop();
    try {
      for (let i = 0; i < events.length; i += 40) expect((await postEvents(token, events.slice(i, i + 40))).status).toBe(202);
      // A retry of an already accepted batch: acknowledged as duplicates, never counted twice.
      const again = await postEvents(token, events.slice(0, 40));
      expect(again.body.data).toMatchObject({ accepted: 0, duplicates: 40 });
    } finally {
      await sys.restartOrigin();
    }
    const stored = await pollUntil(async () => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { data: { event_id: string }[]; next_cursor: string | null } } = await api("GET", `/v1/agents/${agent}/events?limit=200${cursor ? `&cursor=${cursor}` : ""}`);
        ids.push(...page.body.data.map((e) => e.event_id));
        cursor = page.body.next_cursor;
      } while (cursor);
      return ids.length >= events.length ? ids : undefined;
    }, 90_000, 500);
    expect(stored.value.length).toBe(events.length);
    expect(new Set(stored.value).size).toBe(events.length);
  }, 150_000);
  it("a review clears what it saw: an agent that went on after its flag is flagged again for what came after", async () => {
    expect((await api("PATCH", "/v1/tenant/policy", { auto_revoke: false })).status).toBe(200);
    try {
      const { agent, token } = await enrolled(["orders.*"]);
      const normal = normalTraffic(60, Date.now() - 3600_000, "rv");
      expect((await postEvents(token, normal)).status).toBe(202);
      const out = (id: string, action: string) => ({ event_id: id, timestamp: new Date().toISOString(), type: "transaction", action, amount: 250_000, currency: "EUR", outcome: "success" });
      expect((await postEvents(token, [out("flagged-1", "payments.transfer")])).body.data.results[0]!.band).toBe("high");
      type Item = { agent_id: string; event_ids: string[] };
      const listed = async (id: string) => {
        const q = await api<{ data: Item[] }>("GET", "/v1/reviews");
        return q.body.data.find((i) => i.agent_id === agent && i.event_ids.includes(id));
      };
      await pollUntil(() => listed("flagged-1"), 15_000, 100);
      // The agent goes on while it waits for a reviewer: high again, but no new alert (its risk already was).
      expect((await postEvents(token, [out("after-1", "payments.refund")])).body.data.results[0]!.band).toBe("high");
      const cleared = await api<{ data: { decision: string } }>("POST", `/v1/agents/${agent}/review`, { decision: "clear", reason: "the transfer was approved offline" });
      expect(cleared.status).toBe(200);
      // The reviewer saw "flagged-1" only. "after-1" flags the agent again, with its own event.
      const again = await pollUntil(() => listed("after-1"), 15_000, 100);
      expect(again.value.event_ids).not.toContain("flagged-1");
      expect((await api<{ data: { review_required: boolean } }>("GET", `/v1/agents/${agent}`)).body.data.review_required).toBe(true);
    } finally {
      await api("PATCH", "/v1/tenant/policy", { auto_revoke: true });
    }
  }, 60_000);

  it("revoking an agent credential voids the ingest tokens it minted at the edge within seconds; tokens minted otherwise keep working", async () => {
    const { agent } = await enrolled(["orders.*"]);
    const mint = async (bearer: string) => {
      const r = await fetch(`${sys.origin.url}/v1/agents/${agent}/ingest-tokens`, { method: "POST", headers: { authorization: `Bearer ${bearer}` } });
      expect(r.status).toBe(201);
      return ((await r.json()) as { data: { token: string } }).data.token;
    };
    const credential = async (name: string) => (await api<{ data: { id: string; key: string } }>("POST", `/v1/agents/${agent}/credentials`, { name })).body.data;
    const [stolen, other] = [await credential("stolen"), await credential("other")];
    const [fromStolen, fromOther, fromAdmin] = [await mint(stolen.key), await mint(other.key), await mint(fx.adminKey)];
    const batch = (p: string) => normalTraffic(1, Date.now() - 1000, `${p}-${Math.random().toString(36).slice(2)}`);
    for (const t of [fromStolen, fromOther, fromAdmin]) expect((await postEvents(t, batch("before"))).status).toBe(202);
    expect((await api("POST", `/v1/agents/${agent}/credentials/${stolen.id}/revoke`)).status).toBe(200);
    // Before, the stolen credential's token kept posting until it expired (up to 24 h).
    const refused = await pollUntil(async () => {
      const r = await fetch(`${sys.edge.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${fromStolen}`, "content-type": "application/json" }, body: JSON.stringify({ events: batch("after") }) });
      return r.status === 202 ? undefined : { status: r.status, type: ((await r.json()) as { type: string }).type, auth: r.headers.get("www-authenticate") };
    }, 10_000, 100);
    expect(refused.value).toEqual({ status: 401, type: "urn:kakunin:problem:unauthorized", auth: expect.stringContaining('error="invalid_token"') });
    for (const t of [fromOther, fromAdmin]) expect((await postEvents(t, batch("after"))).status).toBe(202);
  }, 60_000);

  it("revoking an API key voids the ingest tokens it minted, for every agent, at the edge within seconds; other keys' tokens keep working", async () => {
    const [first, second] = [await enrolled(["orders.*"]), await enrolled(["orders.*"])];
    const issuer = async (name: string) => (await api<{ data: { id: string; key: string } }>("POST", "/v1/api-keys", { name, role: "issuer" })).body.data;
    const [leaked, kept] = [await issuer("leaked"), await issuer("kept")];
    const mint = async (agent: string, bearer: string) => {
      const r = await fetch(`${sys.origin.url}/v1/agents/${agent}/ingest-tokens`, { method: "POST", headers: { authorization: `Bearer ${bearer}` } });
      expect(r.status).toBe(201);
      return ((await r.json()) as { data: { token: string } }).data.token;
    };
    const stolen = [await mint(first.agent, leaked.key), await mint(second.agent, leaked.key)];
    const fromKept = await mint(first.agent, kept.key);
    const batch = (p: string) => normalTraffic(1, Date.now() - 1000, `${p}-${Math.random().toString(36).slice(2)}`);
    for (const t of [...stolen, fromKept]) expect((await postEvents(t, batch("before"))).status).toBe(202);
    expect((await api("DELETE", `/v1/api-keys/${leaked.id}`)).status).toBe(200);
    // Before, a revoked key's tokens kept posting for any agent it had minted for until they expired (up to 24 h).
    for (const t of stolen) {
      const refused = await pollUntil(async () => {
        const r = await fetch(`${sys.edge.url}/v1/events`, { method: "POST", headers: { authorization: `Bearer ${t}`, "content-type": "application/json" }, body: JSON.stringify({ events: batch("after") }) });
        return r.status === 202 ? undefined : { status: r.status, type: ((await r.json()) as { type: string }).type };
      }, 10_000, 100);
      expect(refused.value).toEqual({ status: 401, type: "urn:kakunin:problem:unauthorized" });
    }
    for (const t of [fromKept, first.token, second.token]) expect((await postEvents(t, batch("after"))).status).toBe(202);
  }, 60_000);
});
