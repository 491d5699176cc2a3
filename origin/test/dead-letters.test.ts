import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signInternal } from "@kakunin/shared";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Problem { type: string; status: number; errors?: { path: string; message: string }[] }
interface Letter { id: string; source: string; kind: string; ref: string; status: number; payload: string; replayed_at: string | null; replay_result: string | null }

describe.each(dbKinds())("poison isolation and dead letters at the origin on %s", (kind) => {
  let o: TestOrigin;
  let tenantId = "";
  beforeAll(async () => {
    o = await startTestOrigin(kind);
    tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
  });
  afterAll(async () => { await o.close(); });

  async function signedPost<T = Record<string, unknown>>(path: string, payload: unknown) {
    const body = JSON.stringify(payload);
    const headers = await signInternal(o.services.edgeSecret, "POST", path, body);
    return o.json<{ data: T } & Problem>("POST", path, { key: null, rawBody: body, headers: { ...headers, "content-type": "application/json" } });
  }
  const certified = async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    return { agent, cert };
  };
  const forwarded = (agent: string, serial: string, id: string, event: Record<string, unknown> = {}) => ({
    agent_id: agent, tenant_id: tenantId, serial_number: serial,
    event: { event_id: id, timestamp: new Date().toISOString(), type: "tool_call", action: "orders.place", outcome: "success", ...event },
    score: 0.1, band: "low", reasons: [], received_at: new Date().toISOString(),
  });
  const letters = async (key?: string) => (await o.json<{ data: Letter[] }>("GET", "/v1/admin/dead-letters?limit=200", key ? { key } : {})).body.data;
  const storedIds = async (agent: string) => (await o.json<{ data: { event_id: string }[] }>("GET", `/v1/agents/${agent}/events`)).body.data.map((e) => e.event_id).sort();

  it("every API route refuses malformed Unicode with 422 naming the field (values and keys, nested)", async () => {
    const bad = await o.json<Problem>("POST", "/v1/agents", { body: agentBody({ name: "bot\ud800" }) });
    expect(bad.status).toBe(422);
    expect(bad.body.errors!.map((e) => e.path)).toEqual(["name"]);
    const nested = await o.json<Problem>("POST", "/v1/agents", { body: agentBody({ owner: { name: "A\udfff", email: "a@b.example" } }) });
    expect(nested.status).toBe(422);
    expect(nested.body.errors!.map((e) => e.path)).toEqual(["owner.name"]);
    const nul = await o.json<Problem>("POST", "/v1/certificates/00000000-0000-4000-8000-000000000000/revoke", { body: { reason: "x\u0000y" } });
    expect(nul.status).toBe(422);
    // (Bytes that are not UTF-8 go through the same shared parser: workers/test/forwarding.test.ts.)
  });

  it("a body nested deeper than MAX_JSON_DEPTH → 422 naming the path on any route, before authentication; nothing changes", async () => {
    const deep = (levels: number) => '{"k":'.repeat(levels) + "1" + "}".repeat(levels);
    const before = (await o.json<{ data: unknown[] }>("GET", "/v1/agents?limit=200")).body.data.length;
    for (const levels of [65, 1_800, 100_000]) {
      // /v1/init reads its body before any key (it is how the first key is made): no 500 there either.
      const init = await o.json<Problem & { detail: string }>("POST", "/v1/init", { key: null, rawBody: `{"bootstrap_token":${deep(levels)}}`, headers: { "content-type": "application/json" } });
      expect(init.status, `init, depth ${levels}`).toBe(422);
      expect(init.body.errors!.map((e) => e.path)).toEqual([["bootstrap_token", ...Array<string>(63).fill("k")].join(".")]);
      const agent = await o.json<Problem>("POST", "/v1/agents", { rawBody: JSON.stringify(agentBody()).replace('"scopes":', `"extra":${deep(levels)},"scopes":`), headers: { "content-type": "application/json" } });
      expect(agent.status, `agents, depth ${levels}`).toBe(422);
      expect(agent.body.errors![0]!.message).toMatch(/nested more than 64 levels deep/);
    }
    expect((await o.json<{ data: unknown[] }>("GET", "/v1/agents?limit=200")).body.data).toHaveLength(before);
  });

  it("an event nested as deep as the edge accepts is stored (the edge's limit is one the origin can keep)", async () => {
    const { agent, cert } = await certified();
    let attributes: unknown = 1;
    for (let i = 0; i < 63; i++) attributes = { k: attributes };
    const r = await signedPost("/internal/v1/events", { events: [forwarded(agent, cert.serial_number, "deepest", { attributes })] });
    expect(r.status).toBe(200);
    expect(await storedIds(agent)).toEqual(["deepest"]);
  });

  it("a forwarded event with a lone surrogate → 422 naming it (not a 500), so the edge can split it off", async () => {
    const { agent, cert } = await certified();
    const r = await signedPost("/internal/v1/events", { events: [forwarded(agent, cert.serial_number, "ok-1"), forwarded(agent, cert.serial_number, "bad", { action: "payments.wire\ud800" })] });
    expect(r.status).toBe(422);
    expect(r.body.errors!.map((e) => e.path)).toEqual(["events.1.event.action"]);
  });

  it("an event the database refuses is dead-lettered at the origin; the rest of its batch is stored and acknowledged", async () => {
    const { agent, cert } = await certified();
    const batch = { events: [
      forwarded(agent, cert.serial_number, "s-1"),
      forwarded(agent, cert.serial_number, "s-poison", { timestamp: "0000-01-01T00:00:00Z" }), // valid RFC 3339, out of PostgreSQL's range
      forwarded(agent, cert.serial_number, "s-2"),
    ] };
    const r = await signedPost("/internal/v1/events", batch);
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ stored: 2, duplicates: 0, rejected: 0, dead_lettered: 1 });
    expect(await storedIds(agent)).toEqual(["s-1", "s-2"]);
    const dead = (await letters()).filter((l) => l.ref === "s-poison");
    expect(dead).toMatchObject([{ source: "origin", kind: "event" }]);
    // Re-forwarded (the edge did not get the answer): nothing new, still one dead letter.
    expect((await signedPost("/internal/v1/events", batch)).body.data).toEqual({ stored: 0, duplicates: 2, rejected: 0, dead_lettered: 1 });
    expect((await letters()).filter((l) => l.ref === "s-poison")).toHaveLength(1);
  });

  it("the edge's dead letters are recorded once, listed for the tenant's admin only, and replayable once fixed", async () => {
    const { agent, cert } = await certified();
    const good = forwarded(agent, cert.serial_number, "edge-late");
    const poison = { ...forwarded(agent, cert.serial_number, "edge-bad"), event: { ...forwarded(agent, cert.serial_number, "edge-bad").event, action: "x\ud800" } };
    const letter = (ref: string, payload: unknown) => ({
      key: `edge:${agent}:event:${ref}`, kind: "event", tenant_id: tenantId, agent_id: agent, ref, status: 500, error: "origin answered 500",
      attempts: 6, payload_json: JSON.stringify(payload), first_failed_at: new Date().toISOString(),
    });
    const report = { wire_version: 2, letters: [letter("edge-late", good), letter("edge-bad", poison)] };
    expect((await signedPost("/internal/v1/dead-letters", report)).body.data).toEqual({ recorded: 2 });
    expect((await signedPost("/internal/v1/dead-letters", report)).status).toBe(200);
    const mine = (await letters()).filter((l) => l.ref.startsWith("edge-"));
    expect(mine.map((l) => l.ref).sort()).toEqual(["edge-bad", "edge-late"]);
    const other = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `dl-${kind}` } })).body.data.admin_api_key;
    expect((await letters(other)).filter((l) => l.ref.startsWith("edge-"))).toEqual([]);
    const late = mine.find((l) => l.ref === "edge-late")!;
    expect((await o.json("POST", `/v1/admin/dead-letters/${late.id}/replay`, { key: other })).status).toBe(404);
    const replay = await o.json<{ data: Letter }>("POST", `/v1/admin/dead-letters/${late.id}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.body.data).toMatchObject({ replay_result: "stored", replayed_at: expect.any(String) });
    expect(await storedIds(agent)).toEqual(["edge-late"]);
    const bad = mine.find((l) => l.ref === "edge-bad")!;
    const refused = await o.json<Problem>("POST", `/v1/admin/dead-letters/${bad.id}/replay`);
    expect(refused.status).toBe(422);
    expect(refused.body.type).toBe("urn:kakunin:problem:replay-failed");
    expect((await o.json<{ data: Letter[] }>("GET", "/v1/admin/dead-letters?pending=true")).body.data.map((l) => l.ref)).toContain("edge-bad");
  });

  it("contract versions: a body without wire_version (N-1) and with the current one are accepted; an unknown one is 426, not 422", async () => {
    const { agent, cert } = await certified();
    expect((await signedPost("/internal/v1/events", { events: [forwarded(agent, cert.serial_number, "v-1")] })).status).toBe(200);
    expect((await signedPost("/internal/v1/events", { wire_version: 2, events: [forwarded(agent, cert.serial_number, "v-2")] })).status).toBe(200);
    const future = await signedPost("/internal/v1/events", { wire_version: 3, batch: "a shape this origin does not know" });
    expect(future.status).toBe(426);
    expect(future.body.type).toBe("urn:kakunin:problem:unsupported-wire-version");
  });

  it("an alert for an agent that is gone is 404 and audited as dropped", async () => {
    const ghost = crypto.randomUUID();
    const alert = { alert_id: `gone-${ghost}`, agent_id: ghost, tenant_id: tenantId, serial_number: "4a", score: 0.9, reasons: [], event_ids: [], triggered_at: new Date().toISOString() };
    expect((await signedPost("/internal/v1/risk-alerts", alert)).status).toBe(404);
    const audit = await o.json<{ data: { kind: string; canonical: string }[] }>("GET", "/v1/audit/entries?limit=1000&kind=risk.alert_dropped");
    expect(audit.body.data.some((e) => e.canonical.includes(ghost))).toBe(true);
  });
});
