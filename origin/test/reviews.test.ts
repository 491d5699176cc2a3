import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ok, type EdgeRecord, type FeedbackRecord } from "@kakunin/shared";
import { eq, sql } from "drizzle-orm";
import { rowsOfResult } from "../src/db/index.ts";
import { certificates, riskDecisions, webhookDeliveries } from "../src/db/schema.ts";
import { reviewQueue } from "../src/console/review-data.ts";
import { decideRisk } from "../src/internal/decide-risk.ts";
import { storeEvents } from "../src/internal/store-events.ts";
import { Publisher } from "../src/publish/publisher.ts";
import { keyManagerSigners } from "../src/publish/signers.ts";
import { agentBody, allPages, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Item {
  agent_id: string;
  kind: string;
  top_reasons: { feature: string }[];
  event_ids: string[];
  events: { event_id: string; band: string }[];
}

describe.each(dbKinds())("review queue on %s", (kind) => {
  let o: TestOrigin;
  let auditor = "";
  let issuer = "";
  let tenant = "";
  let otherAdmin = "";
  beforeAll(async () => {
    // Webhook endpoints on loopback (one test counts what is queued for them).
    o = await startTestOrigin(kind, { env: { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1" } });
    auditor = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "a", role: "auditor" } })).body.data.key;
    issuer = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "i", role: "issuer" } })).body.data.key;
    tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    otherAdmin = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `rv-${kind}` } })).body.data.admin_api_key;
  });
  afterAll(async () => {
    await o.close();
  });

  /** An agent whose monitor reported high risk driven by two stored events. */
  async function alerted(): Promise<{ agent: string; serial: string; cert: string; at: string }> {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const c = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const at = new Date().toISOString();
    const reasons = [{ feature: "out_of_scope", contribution: 0.9, detail: "action 'payments.send' is not covered" }];
    await storeEvents(o.services, {
      events: ["x1", "x2"].map((id) => ({
        agent_id: agent,
        tenant_id: tenant,
        serial_number: c.serial_number,
        score: 0.9,
        band: "high" as const,
        reasons,
        received_at: at,
        event: { event_id: id, timestamp: at, type: "tool_call" as const, action: "payments.send", outcome: "success" as const },
      })),
    });
    const d = await decideRisk(o.services, {
      alert_id: `al-${agent}`,
      agent_id: agent,
      tenant_id: tenant,
      serial_number: c.serial_number,
      score: 0.93,
      reasons,
      event_ids: ["x1", "x2"],
      triggered_at: at,
    });
    expect(d).toBeDefined();
    return { agent, serial: c.serial_number, cert: c.id, at };
  }

  /** Queued webhook events about `agent`, by type. */
  async function webhookTypes(agent: string): Promise<Record<string, number>> {
    const rows = await o.services.db.select({ t: webhookDeliveries.eventType }).from(webhookDeliveries).where(eq(webhookDeliveries.agentId, agent));
    const out: Record<string, number> = {};
    for (const r of rows) out[r.t] = (out[r.t] ?? 0) + 1;
    return out;
  }

  const queue = async (key?: string) => (await o.json<{ data: Item[] }>("GET", "/v1/reviews", { key })).body.data;

  it("flagged (auto_revoke off): listed with reasons and events; clear lifts the flag, is audited and tells the monitor", async () => {
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } })).status).toBe(200);
    const { agent, at } = await alerted();
    const item = (await queue(auditor)).find((i) => i.agent_id === agent)!;
    expect(item).toMatchObject({ kind: "review_required", event_ids: ["x1", "x2"] });
    expect(item.top_reasons[0]!.feature).toBe("out_of_scope");
    expect(item.events.map((e) => e.event_id).sort()).toEqual(["x1", "x2"]);
    expect((await o.json("GET", `/v1/agents/${agent}`)).body).toMatchObject({ data: { review_required: true } });

    expect((await o.json("POST", `/v1/agents/${agent}/review`, { key: auditor, body: { decision: "clear", reason: "ok" } })).status).toBe(403);
    expect((await o.json("POST", `/v1/agents/${agent}/review`, { key: issuer, body: { decision: "clear", reason: "ok" } })).status).toBe(403);
    expect((await o.json("POST", `/v1/agents/${agent}/review`, { key: otherAdmin, body: { decision: "clear", reason: "ok" } })).status).toBe(404);
    for (const body of [
      { decision: "clear" },
      { decision: "clear", reason: "  " },
      { decision: "maybe", reason: "x" },
      { decision: "clear", reason: "x", extra: 1 },
    ]) {
      const r = await o.json("POST", `/v1/agents/${agent}/review`, { body });
      expect(r.status, JSON.stringify(body)).toBe(422);
      expect(r.res.headers.get("content-type")).toContain("application/problem+json");
    }
    const r = await o.json<{ data: { decision: string; agent_status: string; closed_alerts: number; id: string } }>("POST", `/v1/agents/${agent}/review`, {
      body: { decision: "clear", reason: "month-end batch, expected" },
    });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ decision: "clear", agent_status: "active", closed_alerts: 1 });
    expect((await queue()).find((i) => i.agent_id === agent)).toBeUndefined();
    expect((await o.json("GET", `/v1/agents/${agent}`)).body).toMatchObject({ data: { review_required: false, status: "active" } });
    // Nothing left: a second decision is a 409.
    expect((await o.json("POST", `/v1/agents/${agent}/review`, { body: { decision: "clear", reason: "again" } })).status).toBe(409);

    const audit = await o.json<{ data: { kind: string; agent_id: string; data: { decision: string } }[] }>("GET", "/v1/audit/entries?kind=review.decided", {
      key: auditor,
    });
    expect(audit.body.data.some((e) => e.kind === "review.decided" && e.agent_id === agent)).toBe(true);

    const records: EdgeRecord[] = [];
    const p = new Publisher(
      o.services,
      {
        async publish(b) {
          records.push(...b.records);
          return ok({ applied: b.records.length, stale: 0 });
        },
      },
      keyManagerSigners(o.services),
    );
    while (true) {
      const d = await p.drainOnce();
      if ("error" in d || !d.pending) break;
    }
    const fb = records.find((x): x is FeedbackRecord => x.kind === "feedback" && x.agent_id === agent);
    // The review covers what its alert showed: the monitor keeps the risk of anything after it.
    // And what it was about: a drift or a woken tool it did not show is not the clear's to accept.
    expect(fb).toMatchObject({ review_id: r.body.data.id, event_ids: ["x1", "x2"], accepted_until: at, accepted_features: ["out_of_scope"] });
  });

  it("an agent already awaiting review that goes high again: its risk.high is sent each time, review_required once per review", async () => {
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } })).status).toBe(200);
    const hook = await o.json<{ data: { id: string } }>("POST", "/v1/tenant/webhooks", { body: { url: "http://127.0.0.1:9/flaps" } });
    expect(hook.status).toBe(201);
    const a = await alerted();
    const again = async (n: number) => {
      const at = new Date().toISOString();
      const reasons = [{ feature: "rate_burst", contribution: 0.9, detail: "again" }];
      const alert = {
        alert_id: `al-${a.agent}-${n}`,
        agent_id: a.agent,
        tenant_id: tenant,
        serial_number: a.serial,
        score: 0.9,
        reasons,
        event_ids: [`y${n}`],
        triggered_at: at,
      };
      expect((await decideRisk(o.services, alert))?.decision).toBe("flagged");
    };
    await again(1);
    await again(2);
    // Three band changes to high; one review required (the same one, now with three alerts).
    expect(await webhookTypes(a.agent)).toEqual({ "io.kakunin.agent.risk.high": 3, "io.kakunin.agent.review_required": 1 });
    expect((await queue()).find((i) => i.agent_id === a.agent)).toMatchObject({ alerts: 3 });
    expect((await o.json("POST", `/v1/agents/${a.agent}/review`, { body: { decision: "clear", reason: "batch" } })).status).toBe(200);
    // Cleared, then high again: a new review is required, and said so.
    await again(3);
    const types = await webhookTypes(a.agent);
    expect(types).toMatchObject({ "io.kakunin.agent.risk.high": 4, "io.kakunin.agent.review_required": 2 });
    expect((await o.json("POST", `/v1/agents/${a.agent}/review`, { body: { decision: "clear", reason: "batch" } })).status).toBe(200);
    expect((await o.json("DELETE", `/v1/tenant/webhooks/${hook.body.data.id}`)).status).toBe(200);
  });

  it.runIf(kind === "postgres")(
    "a revoke decision racing a direct revocation of one of the agent's certificates applies whole: 200, every certificate revoked, the review recorded",
    async () => {
      expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } })).status).toBe(200);
      const a = await alerted();
      // Renewed: the first certificate speaks for the agent through its overlap, beside its successor.
      expect((await o.json("POST", `/v1/agents/${a.agent}/certificates/renew`, { body: {} })).status).toBe(201);
      // Another transaction revokes the predecessor directly and holds its row until told to commit.
      let commit!: () => void;
      const held = new Promise<void>((r) => {
        commit = r;
      });
      let locked!: () => void;
      const isLocked = new Promise<void>((r) => {
        locked = r;
      });
      const direct = o.services.db.transaction(async (tx) => {
        await tx
          .update(certificates)
          .set({ status: "revoked", revokedAt: new Date(), revocationReason: "direct", revocationCode: "keyCompromise" })
          .where(eq(certificates.id, a.cert));
        locked();
        await held;
      });
      await isLocked;
      // The review reads both certificates as valid, revokes the successor, then waits on the predecessor's row.
      const review = o.json<{ data: { decision: string } }>("POST", `/v1/agents/${a.agent}/review`, { body: { decision: "revoke", reason: "confirmed" } });
      const waiting = async () =>
        rowsOfResult<{ n: number }>(await o.services.db.execute(sql`select count(*)::int as n from pg_locks where not granted`))[0]!.n;
      const until = Date.now() + 10_000;
      while ((await waiting()) === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
      commit();
      await direct;
      const r = await review;
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      const rows = await o.services.db.select({ status: certificates.status }).from(certificates).where(eq(certificates.agentId, a.agent));
      expect(rows.map((x) => x.status)).toEqual(["revoked", "revoked"]);
      expect((await queue()).find((i) => i.agent_id === a.agent)).toBeUndefined();
    },
    30_000,
  );

  it("auto-revoked: listed as auto_revoked; reinstate lifts the risk suspension (admin + reason); revoke confirms", async () => {
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: true } })).status).toBe(200);
    const a = await alerted();
    expect((await o.json("GET", `/v1/agents/${a.agent}`)).body).toMatchObject({ data: { status: "suspended" } });
    expect((await queue()).find((i) => i.agent_id === a.agent)).toMatchObject({ kind: "auto_revoked" });
    const r = await o.json<{ data: { agent_status: string } }>("POST", `/v1/agents/${a.agent}/review`, {
      body: { decision: "reinstate", reason: "false positive: new tool rollout" },
    });
    expect(r.status).toBe(200);
    expect(r.body.data.agent_status).toBe("active");
    expect((await o.json("GET", `/v1/agents/${a.agent}`)).body).toMatchObject({ data: { status: "active" } });
    // The revoked certificate stays revoked; the agent can be certified again.
    expect((await o.json("POST", `/v1/agents/${a.agent}/certify`)).status).toBe(201);

    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } })).status).toBe(200);
    const b = await alerted();
    expect((await o.json("POST", `/v1/agents/${b.agent}/review`, { body: { decision: "reinstate", reason: "x" } })).status).toBe(409);
    const rv = await o.json<{ data: { agent_status: string; revoked_certificate_id: string } }>("POST", `/v1/agents/${b.agent}/review`, {
      body: { decision: "revoke", reason: "confirmed exfiltration" },
    });
    expect(rv.body.data).toMatchObject({ agent_status: "suspended", revoked_certificate_id: b.cert });
    expect((await o.json("GET", `/v1/certificates/${b.cert}`)).body).toMatchObject({ data: { status: "revoked" } });
  });

  it("revoke during a renewal overlap revokes both certificates that speak for the agent", async () => {
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } })).status).toBe(200);
    const a = await alerted();
    const renewed = await o.json<{ data: { id: string } }>("POST", `/v1/agents/${a.agent}/certificates/renew`, { body: {} });
    expect(renewed.status).toBe(201);
    const rv = await o.json<{ data: { agent_status: string; revoked_certificate_id: string } }>("POST", `/v1/agents/${a.agent}/review`, {
      body: { decision: "revoke", reason: "confirmed" },
    });
    expect(rv.status).toBe(200);
    expect(rv.body.data).toMatchObject({ agent_status: "suspended", revoked_certificate_id: renewed.body.data.id });
    for (const id of [a.cert, renewed.body.data.id]) {
      expect((await o.json("GET", `/v1/certificates/${id}`)).body, id).toMatchObject({ data: { status: "revoked" } });
    }
    expect((await queue()).find((i) => i.agent_id === a.agent)).toBeUndefined();
  });

  it("retiring a flagged agent closes the question: it leaves the queue (a retired agent takes no review decision)", async () => {
    const a = await alerted();
    expect((await queue()).some((i) => i.agent_id === a.agent)).toBe(true);
    expect((await o.json("POST", `/v1/agents/${a.agent}/retire`, { body: {} })).status).toBeLessThan(300);
    expect((await o.json("POST", `/v1/agents/${a.agent}/review`, { body: { decision: "clear", reason: "gone" } })).status).toBe(422);
    expect((await queue()).find((i) => i.agent_id === a.agent)).toBeUndefined();
  });
  it("an agent that flaps thousands of times does not push other agents out of the queue", async () => {
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } })).status).toBe(200);
    const quiet = await alerted();
    // A compromised agent's risk can go high, decay and go high again as often as it likes: each
    // time is one more open decision (all recorded, as the audit trail wants).
    const noisy = await alerted();
    const t0 = Date.now();
    const rows = Array.from({ length: 6000 }, (_, i) => ({
      alertId: `flap-${noisy.agent}-${i}`,
      tenantId: tenant,
      agentId: noisy.agent,
      serialNumber: noisy.serial,
      score: 0.9,
      decision: "flagged" as const,
      autoRevoke: false,
      reasons: [{ feature: "rate_burst", contribution: 0.9, detail: "flap" }],
      eventIds: [`flap-${i}`],
      triggeredAt: new Date(t0 + 1000 + i),
    }));
    for (let i = 0; i < rows.length; i += 1000) await o.services.db.insert(riskDecisions).values(rows.slice(i, i + 1000));
    const q = await o.json<{ data: (Item & { alerts: number })[] }>("GET", "/v1/reviews?limit=200");
    expect(q.body.data.find((i) => i.agent_id === quiet.agent)).toMatchObject({ kind: "review_required", event_ids: ["x1", "x2"], alerts: 1 });
    const n = q.body.data.find((i) => i.agent_id === noisy.agent)!;
    expect(n.alerts).toBe(6001);
    expect(n.event_ids).toHaveLength(1000);
    expect(n.event_ids[0]).toBe("flap-5999");
    expect(n.top_reasons[0]!.feature).toBe("rate_burst");
    // Oldest first: the quiet agent was flagged before the noisy one.
    expect(q.body.data.findIndex((i) => i.agent_id === quiet.agent)).toBeLessThan(q.body.data.findIndex((i) => i.agent_id === noisy.agent));
    for (const a of [quiet, noisy]) {
      expect((await o.json("POST", `/v1/agents/${a.agent}/review`, { body: { decision: "clear", reason: "test" } })).status).toBe(200);
    }
  }, 60_000);

  it("pages the whole queue: a queue longer than a page says so (next_cursor), every agent exactly once; a forged cursor is 422", async () => {
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } })).status).toBe(200);
    const flagged: string[] = [];
    for (let i = 0; i < 5; i++) flagged.push((await alerted()).agent);
    const { rows, pages } = await allPages<Item>(o, "/v1/reviews", 2, auditor);
    const seen = rows.map((i) => i.agent_id);
    expect(new Set(seen).size).toBe(seen.length);
    for (const a of flagged) expect(seen).toContain(a);
    expect(pages).toBeGreaterThanOrEqual(3);
    // The last page says there is no more; the whole queue in one page has no cursor.
    const all = await o.json<{ data: Item[]; next_cursor: string | null }>("GET", "/v1/reviews?limit=200");
    expect(all.body.next_cursor).toBeNull();
    expect(all.body.data.map((i) => i.agent_id)).toEqual(seen);
    // The console's page reads the same pages, and the queue's whole length beside them.
    const first = await reviewQueue(o.services.db, tenant, 2);
    expect(first.total).toBe(seen.length);
    expect(first.items.map((i) => i.agentId)).toEqual(seen.slice(0, 2));
    const second = await reviewQueue(o.services.db, tenant, 2, first.next);
    expect(second.items.map((i) => i.agentId)).toEqual(seen.slice(2, 4));
    for (const q of ["?cursor=not-a-cursor", "?limit=0", "?limit=201"]) {
      const r = await o.json<{ errors?: unknown[] }>("GET", `/v1/reviews${q}`);
      expect(r.status, q).toBe(422);
      expect(r.body.errors?.length, q).toBeGreaterThan(0);
    }
    for (const a of flagged) expect((await o.json("POST", `/v1/agents/${a}/review`, { body: { decision: "clear", reason: "test" } })).status).toBe(200);
  });
});
