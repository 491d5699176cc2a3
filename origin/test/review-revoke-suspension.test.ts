import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decideRisk } from "../src/internal/decide-risk.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * A review's `revoke` is the monitor's flag confirmed by an admin: a risk suspension, which only an
 * admin may lift, with a reason (docs/security.md "Risk suspensions are a human decision"). Before
 * this test only a revocation with reason `risk_threshold` (auto_revoke on) counted as one, so with
 * auto_revoke off an issuer key — a provisioning job re-certifying whatever has no certificate —
 * undid the admin's confirmed decision with a bare POST …/certify: a new certificate, the agent
 * active again, and no reason anywhere.
 */
describe.each(dbKinds())("a suspension confirmed by a review's revoke on %s", (kind) => {
  let o: TestOrigin;
  let issuer: string;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
    issuer = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "provisioning", role: "issuer" } })).body.data.key;
    expect((await o.json("PATCH", "/v1/tenant/policy", { body: { auto_revoke: false } })).status).toBe(200);
  });
  afterAll(async () => {
    await o.close();
  });

  /** A certified agent the policy flagged (auto_revoke off), then an admin's review confirmed: revoke. */
  async function confirmedRevoked(): Promise<{ agent: string; certId: string; serial: string }> {
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const c = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const d = await decideRisk(o.services, {
      alert_id: `al-${agent}`,
      agent_id: agent,
      tenant_id: tenant,
      serial_number: c.serial_number,
      score: 0.93,
      reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "action 'payments.send' is not covered" }],
      event_ids: [],
      triggered_at: new Date().toISOString(),
    });
    expect(d?.decision).toBe("flagged");
    const review = await o.json<{ data: { agent_status: string; revoked_certificate_id: string } }>("POST", `/v1/agents/${agent}/review`, {
      body: { decision: "revoke", reason: "confirmed: exfiltration" },
    });
    expect(review.status).toBe(200);
    expect(review.body.data).toMatchObject({ agent_status: "suspended", revoked_certificate_id: c.id });
    return { agent, certId: c.id, serial: c.serial_number };
  }

  it("an issuer's certify is 403 risk-suspension and changes nothing; an admin lifts it with a reason", async () => {
    const { agent, certId, serial } = await confirmedRevoked();
    const byIssuer = await o.json<{ type: string; detail: string }>("POST", `/v1/agents/${agent}/certify`, { key: issuer });
    expect(byIssuer.status).toBe(403);
    expect(byIssuer.body.type).toBe("urn:kakunin:problem:risk-suspension");
    expect(byIssuer.body.detail).toContain(serial);
    const after = await o.json<{ data: { status: string } }>("GET", `/v1/agents/${agent}`);
    expect(after.body.data.status).toBe("suspended");
    expect((await o.json<{ data: unknown[] }>("GET", `/v1/agents/${agent}/certificates`)).body.data).toHaveLength(1);

    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status, "an admin without a reason").toBe(422);
    const lifted = await o.json("POST", `/v1/agents/${agent}/certify`, { body: { reason: "investigated: test traffic" } });
    expect(lifted.status).toBe(201);
    const audit = await o.json<{ data: { kind: string; agent_id: string; entry: { data: Record<string, unknown> } }[] }>("GET", "/v1/audit/entries?limit=200");
    const entry = audit.body.data.find((e) => e.kind === "agent.suspension_lifted" && e.agent_id === agent);
    expect(entry?.entry.data).toMatchObject({ reason: "investigated: test traffic", risk_suspension: { certificate_id: certId, serial_number: serial } });
  });

  it("a review that found nothing left to revoke still suspends for risk: the issuer's certify is 403", async () => {
    const tenant = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const c = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    const d = await decideRisk(o.services, {
      alert_id: `al-${agent}`,
      agent_id: agent,
      tenant_id: tenant,
      serial_number: c.serial_number,
      score: 0.91,
      reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "x" }],
      event_ids: [],
      triggered_at: new Date().toISOString(),
    });
    expect(d?.decision).toBe("flagged");
    // The issuer revokes it by hand before anyone reviews; the review then confirms the flag.
    expect((await o.json("POST", `/v1/certificates/${c.id}/revoke`, { key: issuer, body: { reason: "pulled pending review" } })).status).toBe(200);
    const review = await o.json<{ data: { revoked_certificate_id: string | null } }>("POST", `/v1/agents/${agent}/review`, {
      body: { decision: "revoke", reason: "confirmed" },
    });
    expect(review.status).toBe(200);
    expect(review.body.data.revoked_certificate_id).toBeNull();
    const byIssuer = await o.json<{ type: string; detail: string }>("POST", `/v1/agents/${agent}/certify`, { key: issuer });
    expect(byIssuer.status).toBe(403);
    expect(byIssuer.body.type).toBe("urn:kakunin:problem:risk-suspension");
    expect(byIssuer.body.detail).toMatch(/review/);
  });

  it("a manual revocation after the admin lifted it is an ordinary suspension again: the issuer re-certifies", async () => {
    const { agent } = await confirmedRevoked();
    const c = await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`, { body: { reason: "investigated" } });
    expect(c.status).toBe(201);
    expect((await o.json("POST", `/v1/certificates/${c.body.data.id}/revoke`, { key: issuer, body: { reason: "key rotation" } })).status).toBe(200);
    expect((await o.json("POST", `/v1/agents/${agent}/certify`, { key: issuer })).status).toBe(201);
  });
});
