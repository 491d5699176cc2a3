import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signInternal } from "@kakunin/shared";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * A rolling deploy, old edge → new origin: for each contract the edge sends (forwarded events,
 * risk alerts, dead-letter reports), bodies exactly as older edges sent them (frozen here as
 * literals, not built from today's schema, so a change that breaks an old sender fails this test)
 * are accepted and take effect; a version newer than this origin knows is refused with 426 before
 * anything is stored, which the edge treats as "hold and retry" (workers/test/rolling-deploy.test.ts).
 * The reverse direction (new edge → old origin: 426 held, never dead-lettered) is in
 * workers/test/forwarding.test.ts and workers/test/rolling-deploy.test.ts.
 */
describe.each(dbKinds())("old edge → new origin, every contract, on %s", (kind) => {
  let o: TestOrigin;
  let tenant = "";
  beforeAll(async () => {
    o = await startTestOrigin(kind);
    tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
  });
  afterAll(async () => {
    await o.close();
  });

  const signedPost = async (path: string, payload: unknown) => {
    const body = JSON.stringify(payload);
    const headers = await signInternal(o.services.edgeSecret, "POST", path, body);
    return o.json<{ data: Record<string, unknown>; type?: string }>("POST", path, {
      key: null,
      rawBody: body,
      headers: { ...headers, "content-type": "application/json" },
    });
  };
  const certified = async (name: string) => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name }) })).body.data.id;
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    return { agent, serial: cert.serial_number, certId: cert.id };
  };
  const now = () => new Date().toISOString();
  const storedIds = async (agent: string) =>
    (await o.json<{ data: { event_id: string }[] }>("GET", `/v1/agents/${agent}/events`)).body.data.map((e) => e.event_id).sort();

  // The bodies of each version, as that version's edge wrote them.
  const eventsV1 = (agent: string, serial: string, id: string) => ({
    events: [
      {
        agent_id: agent,
        tenant_id: tenant,
        serial_number: serial,
        event: { event_id: id, timestamp: now(), type: "tool_call", action: "orders.place", outcome: "success" },
        score: 0.12,
        band: "low",
        reasons: [{ feature: "novelty", contribution: 0.12, detail: "first orders.place" }],
        received_at: now(),
      },
    ],
  });
  const alertV1 = (agent: string, serial: string, id: string) => ({
    alert_id: id,
    agent_id: agent,
    tenant_id: tenant,
    serial_number: serial,
    score: 0.91,
    reasons: [{ feature: "burst", contribution: 0.6, detail: "40x baseline" }],
    event_ids: ["e-1"],
    triggered_at: now(),
  });
  const lettersV1 = (agent: string, key: string) => ({
    letters: [
      {
        key,
        kind: "event",
        tenant_id: tenant,
        agent_id: agent,
        ref: key.split(":").pop(),
        status: 422,
        error: "refused by an older origin",
        attempts: 6,
        payload_json: '{"event_id":"x","action":"payments.wire\\ud800"}',
        first_failed_at: now(),
      },
    ],
  });

  it("forwarded events: v1 (no wire_version) and v2 are stored; v3 is 426 and stores nothing", async () => {
    const { agent, serial } = await certified("roll-events");
    expect((await signedPost("/internal/v1/events", eventsV1(agent, serial, "v1-e"))).status).toBe(200);
    expect((await signedPost("/internal/v1/events", { wire_version: 2, ...eventsV1(agent, serial, "v2-e") })).status).toBe(200);
    const future = await signedPost("/internal/v1/events", { wire_version: 3, ...eventsV1(agent, serial, "v3-e") });
    expect(future.status).toBe(426);
    expect(future.body.type).toBe("urn:kakunin:problem:unsupported-wire-version");
    expect(await storedIds(agent)).toEqual(["v1-e", "v2-e"]);
  });

  it("risk alerts: v1 and v2 are decided by the tenant's policy; v3 is 426 and decides nothing", async () => {
    const a = await certified("roll-alert-a");
    const b = await certified("roll-alert-b");
    const c = await certified("roll-alert-c");
    const future = await signedPost("/internal/v1/risk-alerts", { wire_version: 3, ...alertV1(c.agent, c.serial, "al-3") });
    expect(future.status).toBe(426);
    const v1 = await signedPost("/internal/v1/risk-alerts", alertV1(a.agent, a.serial, "al-1"));
    const v2 = await signedPost("/internal/v1/risk-alerts", { wire_version: 2, ...alertV1(b.agent, b.serial, "al-2") });
    expect([v1.status, v2.status]).toEqual([200, 200]);
    const audit = async (agent: string) =>
      (await o.json<{ data: { kind: string; agent_id: string | null }[] }>("GET", `/v1/audit/entries?limit=1000`)).body.data
        .filter((e) => e.agent_id === agent && e.kind.startsWith("risk."))
        .map((e) => e.kind);
    expect((await audit(a.agent)).length).toBeGreaterThan(0);
    expect((await audit(b.agent)).length).toBeGreaterThan(0);
    expect(await audit(c.agent)).toEqual([]);
    // The policy decided the same way for both versions.
    expect(v1.body.data.decision).toBe(v2.body.data.decision);
  });

  it("dead-letter reports: v1 and v2 are listed for the operator; v3 is 426 and lists nothing", async () => {
    const { agent } = await certified("roll-letters");
    expect((await signedPost("/internal/v1/dead-letters", lettersV1(agent, `edge:${agent}:event:dl-1`))).status).toBe(200);
    expect((await signedPost("/internal/v1/dead-letters", { wire_version: 2, ...lettersV1(agent, `edge:${agent}:event:dl-2`) })).status).toBe(200);
    expect((await signedPost("/internal/v1/dead-letters", { wire_version: 3, ...lettersV1(agent, `edge:${agent}:event:dl-3`) })).status).toBe(426);
    const listed = (await o.json<{ data: { ref: string; source: string }[] }>("GET", "/v1/admin/dead-letters?limit=200")).body.data
      .filter((l) => l.source === "edge" && l.ref.startsWith("dl-"))
      .map((l) => l.ref)
      .sort();
    expect(listed).toEqual(["dl-1", "dl-2"]);
  });
});
