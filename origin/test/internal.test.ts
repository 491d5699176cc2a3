import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signInternal } from "@kakunin/shared";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

describe.each(dbKinds())("internal calls from the edge on %s", (kind) => {
  let o: TestOrigin;
  let tenantId = "";
  beforeAll(async () => {
    o = await startTestOrigin(kind);
    tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
  });
  afterAll(async () => { await o.close(); });

  async function signedPost(path: string, payload: unknown, opts: { secret?: string; headers?: Record<string, string> } = {}) {
    const body = JSON.stringify(payload);
    const headers = opts.headers ?? (await signInternal(opts.secret ?? o.services.edgeSecret, "POST", path, body));
    return o.json<{ data: Record<string, unknown>; type?: string }>("POST", path, { key: null, rawBody: body, headers: { ...headers, "content-type": "application/json" } });
  }
  const certified = async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    return { agent, cert };
  };
  const forwarded = (agent: string, serial: string, id: string) => ({
    agent_id: agent, tenant_id: tenantId, serial_number: serial,
    event: { event_id: id, timestamp: new Date().toISOString(), type: "tool_call", action: "orders.place", outcome: "success" },
    score: 0.1, band: "low", reasons: [], received_at: new Date().toISOString(),
  });

  it("stores forwarded events exactly once", async () => {
    const { agent, cert } = await certified();
    const batch = { events: [forwarded(agent, cert.serial_number, "a"), forwarded(agent, cert.serial_number, "b")] };
    expect((await signedPost("/internal/v1/events", batch)).body.data).toEqual({ stored: 2, duplicates: 0, rejected: 0 });
    expect((await signedPost("/internal/v1/events", batch)).body.data).toEqual({ stored: 0, duplicates: 2, rejected: 0 });
    const list = await o.json<{ data: { event_id: string }[] }>("GET", `/v1/agents/${agent}/events`);
    expect(list.body.data.map((e) => e.event_id).sort()).toEqual(["a", "b"]);
  });

  it("an event_id used again after the edge forgot it (another event, received 32 days later) is dead-lettered, not dropped as a duplicate", async () => {
    const { agent, cert } = await certified();
    const first = { ...forwarded(agent, cert.serial_number, "reused"), received_at: new Date(Date.now() - 32 * 86_400_000).toISOString() };
    expect((await signedPost("/internal/v1/events", { events: [first] })).body.data).toEqual({ stored: 1, duplicates: 0, rejected: 0 });
    // The edge re-forwarding the first one is a duplicate, as before.
    expect((await signedPost("/internal/v1/events", { events: [first] })).body.data).toEqual({ stored: 0, duplicates: 1, rejected: 0 });
    const again = forwarded(agent, cert.serial_number, "reused");
    const later = { ...again, event: { ...again.event, action: "orders.refund" }, score: 0.9, band: "high" };
    expect((await signedPost("/internal/v1/events", { events: [later] })).body.data).toEqual({ stored: 0, duplicates: 0, rejected: 0, dead_lettered: 1 });
    const letters = await o.json<{ data: { ref: string; kind: string; error: string }[] }>("GET", "/v1/admin/dead-letters");
    expect(letters.body.data.find((l) => l.ref === "reused")).toMatchObject({ kind: "event", error: expect.stringContaining("already used") });
  });

  // The edge acknowledged these events (202) and drops them once the origin answers 200. An agent
  // the database does not know is what a restore from a dump leaves behind (its certificate is
  // still at the edge): before, the events were counted as `rejected` and vanished without a row,
  // a log line or a metric.
  it("events of an agent the origin does not know are dead-lettered, not dropped without a trace", async () => {
    const { cert } = await certified();
    const unknown = crypto.randomUUID();
    const ev = forwarded(unknown, cert.serial_number, "from-a-lost-agent");
    expect((await signedPost("/internal/v1/events", { events: [ev] })).body.data).toEqual({ stored: 0, duplicates: 0, rejected: 1 });
    const letters = await o.json<{ data: { ref: string; kind: string; source: string; status: number; agent_id: string; error: string; payload: string }[] }>("GET", "/v1/admin/dead-letters?limit=200");
    expect(letters.body.data.find((l) => l.ref === "from-a-lost-agent")).toMatchObject({
      kind: "event", source: "origin", status: 404, agent_id: unknown, error: expect.stringContaining("not found"),
    });
    // Re-forwarded (the edge retrying a batch it had no answer to): still one letter.
    await signedPost("/internal/v1/events", { events: [ev] });
    expect((await o.json<{ data: { ref: string }[] }>("GET", "/v1/admin/dead-letters?limit=200")).body.data.filter((l) => l.ref === "from-a-lost-agent")).toHaveLength(1);
  });

  it("refuses unsigned, wrongly signed and replayed calls (401), and events claiming another tenant", async () => {
    const { agent, cert } = await certified();
    const batch = { events: [forwarded(agent, cert.serial_number, "x")] };
    expect((await o.json("POST", "/internal/v1/events", { key: null, body: batch })).status).toBe(401);
    expect((await signedPost("/internal/v1/events", batch, { secret: "wrong-wrong-wrong-wrong-wrong-wrong" })).status).toBe(401);
    const body = JSON.stringify(batch);
    const headers = await signInternal(o.services.edgeSecret, "POST", "/internal/v1/events", body);
    expect((await signedPost("/internal/v1/events", batch, { headers })).status).toBe(200);
    const replay = await signedPost("/internal/v1/events", batch, { headers });
    expect(replay.status).toBe(401);
    const other = (await o.json<{ data: { admin_api_key: string; id: string } }>("POST", "/v1/tenants", { body: { name: `t-${kind}` } })).body.data;
    const lie = { events: [{ ...forwarded(agent, cert.serial_number, "y"), tenant_id: other.id }] };
    expect((await signedPost("/internal/v1/events", lie)).body.data).toEqual({ stored: 0, duplicates: 0, rejected: 1 });
  });

  it("risk alert with auto_revoke on: the certificate is revoked (risk_threshold), once", async () => {
    const { agent, cert } = await certified();
    const alert = { alert_id: `al-${cert.id}`, agent_id: agent, tenant_id: tenantId, serial_number: cert.serial_number, score: 0.93,
      reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "x" }], event_ids: ["e1"], triggered_at: new Date().toISOString() };
    const r = await signedPost("/internal/v1/risk-alerts", alert);
    expect(r.body.data).toMatchObject({ decision: "revoked", certificate_id: cert.id });
    const c = await o.json<{ data: { status: string; revocation_reason: string } }>("GET", `/v1/certificates/${cert.id}`);
    expect(c.body.data).toMatchObject({ status: "revoked", revocation_reason: "risk_threshold" });
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/agents/${agent}`)).body.data.status).toBe("suspended");
    expect((await signedPost("/internal/v1/risk-alerts", alert)).body.data).toMatchObject({ decision: "revoked" });
  });

  it("risk alert with auto_revoke off: the agent is flagged for review, the certificate stays", async () => {
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } })).status).toBe(200);
    try {
      const { agent, cert } = await certified();
      const alert = { alert_id: `al-${cert.id}`, agent_id: agent, tenant_id: tenantId, serial_number: cert.serial_number, score: 0.9,
        reasons: [], event_ids: [], triggered_at: new Date().toISOString() };
      expect((await signedPost("/internal/v1/risk-alerts", alert)).body.data).toMatchObject({ decision: "flagged" });
      expect((await o.json<{ data: { status: string } }>("GET", `/v1/certificates/${cert.id}`)).body.data.status).toBe("active");
      expect((await o.json<{ data: { review_required: boolean } }>("GET", `/v1/agents/${agent}`)).body.data.review_required).toBe(true);
    } finally {
      await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: true } });
    }
  });

  // The risk is the agent's: an alert names the serial the agent posted under, which after a
  // renewal may be the predecessor, still valid through its overlap.
  const renewed = async () => {
    const { agent, cert } = await certified();
    const next = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certificates/renew`)).body.data;
    return { agent, old: cert, next };
  };
  const alertFor = (agent: string, serial: string, id: string) => ({
    alert_id: id, agent_id: agent, tenant_id: tenantId, serial_number: serial, score: 0.93,
    reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "x" }], event_ids: ["e1"], triggered_at: new Date().toISOString(),
  });
  const statusOf = async (id: string) => (await o.json<{ data: { status: string } }>("GET", `/v1/certificates/${id}`)).body.data.status;

  it("risk alert naming a renewed predecessor inside its overlap (auto_revoke on): every valid certificate of the agent is revoked", async () => {
    const { agent, old, next } = await renewed();
    expect(await statusOf(old.id)).toBe("renewed");
    const r = await signedPost("/internal/v1/risk-alerts", alertFor(agent, old.serial_number, `al-old-${old.id}`));
    expect(r.body.data).toMatchObject({ decision: "revoked" });
    expect(await statusOf(old.id)).toBe("revoked");
    expect(await statusOf(next.id)).toBe("revoked");
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/agents/${agent}`)).body.data.status).toBe("suspended");
  });

  it("risk alert naming the successor revokes the predecessor still in its overlap too", async () => {
    const { agent, old, next } = await renewed();
    expect((await signedPost("/internal/v1/risk-alerts", alertFor(agent, next.serial_number, `al-next-${next.id}`))).body.data).toMatchObject({ decision: "revoked", certificate_id: next.id });
    expect(await statusOf(next.id)).toBe("revoked");
    expect(await statusOf(old.id)).toBe("revoked");
  });

  it("risk alert naming a renewed predecessor (auto_revoke off): the agent is flagged for review", async () => {
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } })).status).toBe(200);
    try {
      const { agent, old, next } = await renewed();
      expect((await signedPost("/internal/v1/risk-alerts", alertFor(agent, old.serial_number, `al-flag-${old.id}`))).body.data).toMatchObject({ decision: "flagged" });
      expect((await o.json<{ data: { review_required: boolean } }>("GET", `/v1/agents/${agent}`)).body.data.review_required).toBe(true);
      expect(await statusOf(next.id)).toBe("active");
    } finally {
      await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: true } });
    }
  });

  it("risk alert for an agent whose certificates are all revoked already decides nothing new", async () => {
    const { agent, cert } = await certified();
    expect((await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { body: { reason: "key compromise" } })).status).toBe(200);
    expect((await signedPost("/internal/v1/risk-alerts", alertFor(agent, cert.serial_number, `al-gone-${cert.id}`))).body.data).toMatchObject({ decision: "already_revoked" });
  });

  it("a call from an edge whose clock is 6 minutes off is refused with a 401 that names the skew", async () => {
    const { agent, cert } = await certified();
    const batch = { events: [forwarded(agent, cert.serial_number, "skewed")] };
    const body = JSON.stringify(batch);
    for (const [offset, direction] of [[6, "ahead of"], [-6, "behind"]] as const) {
      const headers = await signInternal(o.services.edgeSecret, "POST", "/internal/v1/events", body, new Date(Date.now() + offset * 60_000));
      const r = await o.json<{ detail: string }>("POST", "/internal/v1/events", { key: null, rawBody: body, headers: { ...headers, "content-type": "application/json" } });
      expect(r.status).toBe(401);
      expect(r.body.detail).toMatch(new RegExp(`clock skew: the caller's timestamp is 3[56]\\d s ${direction} this server's clock \\(allowed ±300 s\\)`));
    }
  });

  it("422 for malformed payloads", async () => {
    expect((await signedPost("/internal/v1/events", { events: [] })).status).toBe(422);
    expect((await signedPost("/internal/v1/risk-alerts", { alert_id: 1 })).status).toBe(422);
  });
});
