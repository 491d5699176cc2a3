import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ok, type EdgeRecord, type PublishBatch, type ScoringRecord } from "@kakunin/shared";
import type { EdgeClient } from "../src/publish/edge-client.ts";
import { Publisher } from "../src/publish/publisher.ts";
import { keyManagerSigners } from "../src/publish/signers.ts";
import { storeEvents } from "../src/internal/store-events.ts";
import type { ForwardedEvents } from "@kakunin/shared";
import { agents } from "../src/db/schema.ts";
import { AGENTS_LISTED } from "../src/routes/v1_tenant_scoring_shadow.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Problem {
  type: string;
  status: number;
  errors?: { path: string; message: string }[];
}
interface View {
  thresholds: { medium: number; high: number };
  weights: Record<string, number>;
  shadow: null | { since: string; weights?: Record<string, number> };
  features: string[];
}

describe.each(dbKinds())("tenant scoring on %s", (kind) => {
  let o: TestOrigin;
  let auditor = "";
  let issuer = "";
  const batches: PublishBatch[] = [];
  const edge: EdgeClient = {
    async publish(b) {
      batches.push(b);
      return ok({ applied: b.records.length, stale: 0 });
    },
  };
  const records = (): EdgeRecord[] => batches.flatMap((b) => b.records);

  beforeAll(async () => {
    o = await startTestOrigin(kind);
    auditor = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "a", role: "auditor" } })).body.data.key;
    issuer = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "i", role: "issuer" } })).body.data.key;
  });
  afterAll(async () => {
    await o.close();
  });

  it("GET shows defaults and the feature list; PATCH overrides, is audited and published to the edge", async () => {
    const get = await o.json<{ data: View }>("GET", "/v1/tenant/scoring", { key: auditor });
    expect(get.status).toBe(200);
    expect(get.body.data).toMatchObject({ thresholds: { medium: 0.3, high: 0.85 }, weights: {}, shadow: null });
    expect(get.body.data.features).toContain("unusual_hour");

    const patch = await o.json<{ data: View }>("PATCH", "/v1/tenant/scoring", {
      body: { thresholds: { medium: 0.25, high: 0.7 }, weights: { unusual_hour: 2, latency: 0 } },
    });
    expect(patch.status).toBe(200);
    expect(patch.body.data).toMatchObject({ thresholds: { medium: 0.25, high: 0.7 }, weights: { unusual_hour: 2, latency: 0 } });

    const p = new Publisher(o.services, edge, keyManagerSigners(o.services));
    while (true) {
      const d = await p.drainOnce();
      if ("error" in d || !d.pending) break;
    }
    const rec = records()
      .filter((r): r is ScoringRecord => r.kind === "scoring")
      .at(-1)!;
    expect(rec.scoring).toEqual({ thresholds: { medium: 0.25, high: 0.7 }, weights: { unusual_hour: 2, latency: 0 } });

    const audit = await o.json<{ data: { kind: string; data: { after: unknown } }[] }>("GET", "/v1/audit/entries?kind=scoring.updated", { key: auditor });
    const entries = audit.body.data.filter((e) => e.kind === "scoring.updated");
    expect(entries.length).toBeGreaterThanOrEqual(1);

    // null removes an override.
    const cleared = await o.json<{ data: View }>("PATCH", "/v1/tenant/scoring", { body: { weights: null } });
    expect(cleared.body.data.weights).toEqual({});
    expect(cleared.body.data.thresholds.high).toBe(0.7);
  });

  it("a PATCH may set one threshold: the other keeps its stored value (the default for a shadow candidate)", async () => {
    const base = (await o.json<{ data: View }>("GET", "/v1/tenant/scoring")).body.data.thresholds;
    const high = await o.json<{ data: View }>("PATCH", "/v1/tenant/scoring", { body: { thresholds: { high: 0.9 } } });
    expect(high.status).toBe(200);
    expect(high.body.data.thresholds).toEqual({ medium: base.medium, high: 0.9 });
    const medium = await o.json<{ data: View }>("PATCH", "/v1/tenant/scoring", { body: { thresholds: { medium: 0.4 } } });
    expect(medium.body.data.thresholds).toEqual({ medium: 0.4, high: 0.9 });
    // The candidate is a whole configuration: what it leaves out is the scorer's default.
    const shadow = await o.json<{ data: View & { shadow: { thresholds?: { medium: number; high: number } } } }>("PATCH", "/v1/tenant/scoring", {
      body: { shadow: { thresholds: { high: 0.6 } } },
    });
    expect(shadow.status).toBe(200);
    expect(shadow.body.data.shadow.thresholds).toEqual({ medium: 0.3, high: 0.6 });
    const refused = await o.json<Problem>("PATCH", "/v1/tenant/scoring", { body: { thresholds: { high: 0.35 } } });
    expect(refused.status).toBe(422);
    expect(refused.body.errors?.[0]).toMatchObject({ path: "thresholds.high" });
    const restore = await o.json<{ data: View }>("PATCH", "/v1/tenant/scoring", { body: { thresholds: base, shadow: null } });
    expect(restore.body.data.thresholds).toEqual(base);
  });

  it("bad input is a 422 problem and changes nothing; non-admins get 403", async () => {
    const before = (await o.json<{ data: View }>("GET", "/v1/tenant/scoring")).body.data;
    for (const body of [
      {},
      { thresholds: { medium: 0.9, high: 0.5 } },
      { thresholds: { medium: 0.95 } },
      { thresholds: {} },
      { thresholds: { high: 0.1 } },
      { shadow: { thresholds: { medium: 0.9 } } },
      { weights: { no_such_feature: 1 } },
      { weights: { latency: -1 } },
      { weights: { latency: 11 } },
      { bogus: 1 },
      { shadow: { weights: { nope: 2 } } },
      { thresholds: { medium: 0, high: 0.5 } },
    ]) {
      const r = await o.json<Problem>("PATCH", "/v1/tenant/scoring", { body });
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.res.headers.get("content-type")).toContain("application/problem+json");
    }
    // A key named __proto__ is dropped by every object copy: accepted, it was an audited change of nothing.
    const audited = async () => (await o.json<{ data: unknown[] }>("GET", "/v1/audit/entries?kind=scoring.updated&limit=1000")).body.data.length;
    const entries = await audited();
    for (const [raw, path] of [
      ['{"weights":{"__proto__":1}}', "weights.__proto__"],
      ['{"shadow":{"weights":{"__proto__":2}}}', "shadow.weights.__proto__"],
      ['{"__proto__":{"thresholds":{"medium":0.1,"high":0.2}}}', "__proto__"],
    ]) {
      const r = await o.json<Problem>("PATCH", "/v1/tenant/scoring", { rawBody: raw!, headers: { "content-type": "application/json" } });
      expect({ raw, status: r.status }).toEqual({ raw, status: 422 });
      expect(r.body.errors?.map((e) => e.path)).toEqual([path]);
    }
    expect(await audited()).toBe(entries);
    const bad = await o.json<Problem>("PATCH", "/v1/tenant/scoring", { body: { weights: { no_such_feature: 1 } } });
    expect(bad.body.errors?.[0]?.path).toContain("no_such_feature");
    expect((await o.json<{ data: View }>("GET", "/v1/tenant/scoring")).body.data).toEqual(before);
    expect((await o.json("PATCH", "/v1/tenant/scoring", { key: auditor, body: { weights: { latency: 1 } } })).status).toBe(403);
    expect((await o.json("PATCH", "/v1/tenant/scoring", { key: issuer, body: { weights: { latency: 1 } } })).status).toBe(403);
    expect((await o.json("GET", "/v1/tenant/scoring", { key: issuer })).status).toBe(403);
    expect((await o.json("GET", "/v1/tenant/scoring/shadow", { key: issuer })).status).toBe(403);
  });

  it("per-agent sensitivity: admin sets it, issuers may not, bad values are 422, it reaches the edge", async () => {
    const agent = (await o.json<{ data: { id: string; sensitivity: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data;
    expect(agent.sensitivity).toBe("normal");
    const r = await o.json<{ data: { sensitivity: string } }>("PATCH", `/v1/agents/${agent.id}`, { body: { sensitivity: "high" } });
    expect(r.status).toBe(200);
    expect(r.body.data.sensitivity).toBe("high");
    expect((await o.json<Problem>("PATCH", `/v1/agents/${agent.id}`, { key: issuer, body: { sensitivity: "low" } })).status).toBe(403);
    expect((await o.json<Problem>("PATCH", `/v1/agents/${agent.id}`, { body: { sensitivity: "extreme" } })).status).toBe(422);
    const p = new Publisher(o.services, edge, keyManagerSigners(o.services));
    while (true) {
      const d = await p.drainOnce();
      if ("error" in d || !d.pending) break;
    }
    const rec = records()
      .filter((x) => x.kind === "agent" && x.agent_id === agent.id)
      .at(-1);
    expect(rec).toMatchObject({ sensitivity: "high" });
  });

  it("shadow: the report counts re-banded events and agents the candidate would have sent high", async () => {
    const set = await o.json<{ data: View }>("PATCH", "/v1/tenant/scoring", { body: { shadow: { thresholds: { medium: 0.2, high: 0.5 } } } });
    expect(set.body.data.shadow?.since).toBeTruthy();
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const now = new Date(Date.now() + 1000).toISOString();
    type Shadow = NonNullable<ForwardedEvents["events"][number]["shadow"]>;
    const ev = (id: string, score: number, band: "low" | "medium", shadow?: Shadow): ForwardedEvents["events"][number] => ({
      agent_id: agent,
      tenant_id: tenant,
      serial_number: "4d2f",
      score,
      band,
      reasons: [],
      received_at: now,
      event: { event_id: id, timestamp: now, type: "tool_call" as const, action: "orders.place", outcome: "success" as const },
      ...(shadow && { shadow }),
    });
    await storeEvents(o.services, {
      events: [
        ev("e1", 0.6, "medium", { score: 0.6, band: "high", risk_band: "high", active_band: "medium", active_risk_band: "medium", would_become_high: true }),
        ev("e2", 0.25, "low", { score: 0.25, band: "medium", risk_band: "high", active_band: "low", active_risk_band: "medium", would_become_high: false }),
        ev("e3", 0.1, "low"),
      ],
    });
    const r = await o.json<{ data: { events_rebanded: number; rebanded: unknown[]; would_go_high: { agent_id: string; events: number }[] } }>(
      "GET",
      "/v1/tenant/scoring/shadow",
      { key: auditor },
    );
    expect(r.status).toBe(200);
    expect(r.body.data.events_rebanded).toBe(2);
    expect(r.body.data.rebanded).toEqual(
      expect.arrayContaining([
        { from: "medium", to: "high", events: 1 },
        { from: "low", to: "medium", events: 1 },
      ]),
    );
    expect(r.body.data.would_go_high).toEqual([expect.objectContaining({ agent_id: agent, events: 2 })]);
  });

  it("shadow: a candidate that would move more agents than the report lists says how many in all", async () => {
    // A fresh tenant, so earlier tests' events do not count.
    const key = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `shadow-many-${kind}` } })).body.data.admin_api_key;
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant", { key })).body.data.id;
    expect((await o.json("PATCH", "/v1/tenant/scoring", { key, body: { shadow: { thresholds: { medium: 0.2, high: 0.5 } } } })).status).toBe(200);
    const n = AGENTS_LISTED + 3;
    const made = await o.services.db
      .insert(agents)
      .values(
        Array.from({ length: n }, (_, i) => ({
          tenantId: tenant,
          name: `shadow-${i}`,
          modelName: "m",
          modelVersion: "1",
          modelHash: `sha256:${"ab".repeat(32)}`,
          ownerName: "o",
          ownerEmail: "o@example.com",
          scopes: ["orders.*"],
        })),
      )
      .returning({ id: agents.id });
    const now = new Date(Date.now() + 1000).toISOString();
    const up = {
      score: 0.6,
      band: "high" as const,
      risk_band: "high" as const,
      active_band: "medium" as const,
      active_risk_band: "medium" as const,
      would_become_high: true,
    };
    const down = {
      score: 0.6,
      band: "medium" as const,
      risk_band: "medium" as const,
      active_band: "high" as const,
      active_risk_band: "high" as const,
      would_become_high: false,
    };
    const events = made.map((a, i) => ({
      agent_id: a.id,
      tenant_id: tenant,
      serial_number: "4d2f",
      score: 0.6,
      band: "medium" as const,
      reasons: [],
      received_at: now,
      event: { event_id: `s-${i}`, timestamp: now, type: "tool_call" as const, action: "orders.place", outcome: "success" as const },
      shadow: i < 2 ? down : up,
    }));
    for (let i = 0; i < events.length; i += 200) await storeEvents(o.services, { events: events.slice(i, i + 200) });
    const r = await o.json<{
      data: { would_go_high: unknown[]; would_go_high_agents: number; would_not_go_high: unknown[]; would_not_go_high_agents: number };
    }>("GET", "/v1/tenant/scoring/shadow", { key });
    expect(r.status).toBe(200);
    expect(r.body.data.would_go_high).toHaveLength(AGENTS_LISTED);
    expect(r.body.data.would_go_high_agents).toBe(n - 2);
    expect(r.body.data.would_not_go_high).toHaveLength(2);
    expect(r.body.data.would_not_go_high_agents).toBe(2);
  }, 60_000);
});
