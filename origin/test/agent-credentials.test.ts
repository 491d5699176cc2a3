import { signInternal } from "@kakunin/shared";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Problem { type: string; status: number; detail: string; errors?: { path: string; message: string }[] }
interface Cred { id: string; key: string; agent_id: string; name: string; prefix: string; revoked_at: string | null }

describe.each(dbKinds())("agent credentials on %s", (kind) => {
  let o: TestOrigin;
  let issuer = "";
  let tenantId = "";

  beforeAll(async () => {
    o = await startTestOrigin(kind);
    issuer = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "issuer", role: "issuer" } })).body.data.key;
    tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
  });
  afterAll(async () => { await o.close(); });

  async function certified(): Promise<{ agent: string; cert: { id: string; serial_number: string } }> {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = (await o.json<{ data: { id: string; serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data;
    return { agent, cert };
  }
  async function credential(agent: string, key = issuer): Promise<Cred> {
    const r = await o.json<{ data: Cred }>("POST", `/v1/agents/${agent}/credentials`, { key, body: { name: "runtime" } });
    expect(r.status).toBe(201);
    return r.body.data;
  }
  const sign = (agent: string, key: string) => o.json<{ data: { signature_b64: string; serial_number: string } } & Problem>(
    "POST", `/v1/agents/${agent}/sign`, { key, body: { payload_b64: "aGVsbG8=" } });
  const token = (agent: string, key: string) => o.json<{ data: { token: string; agent_id: string } } & Problem>(
    "POST", `/v1/agents/${agent}/ingest-tokens`, { key, body: {} });
  async function audit(kind: string): Promise<{ actor: Record<string, unknown>; agent_id: string; data: Record<string, unknown> }[]> {
    const r = await o.json<{ data: { entry: { actor: Record<string, unknown>; agent_id: string; data: Record<string, unknown> } }[] }>("GET", `/v1/audit/entries?kind=${kind}&limit=1000`);
    return r.body.data.map((d) => d.entry);
  }

  it("is shown once with a kka_ prefix, stored hashed, listed without the key, and audited", async () => {
    const { agent } = await certified();
    const cred = await credential(agent);
    expect(cred.key).toMatch(/^kka_[A-Za-z0-9_-]{43}$/);
    expect(cred).toMatchObject({ agent_id: agent, name: "runtime", prefix: cred.key.slice(0, 10), revoked_at: null });
    const list = await o.json<{ data: Record<string, unknown>[] }>("GET", `/v1/agents/${agent}/credentials`, { key: issuer });
    expect(list.body.data).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(cred.key);
    const dump = JSON.stringify(await o.services.db.execute(sql`select * from agent_credentials`));
    expect(dump).not.toContain(cred.key);
    const created = (await audit("agent_credential.created")).filter((e) => e.agent_id === agent);
    expect(created).toHaveLength(1);
    expect(created[0]!.data).toMatchObject({ credential_id: cred.id, prefix: cred.prefix });
  });

  it("signs as its agent and mints its ingest tokens, audited as the credential", async () => {
    const { agent, cert } = await certified();
    const cred = await credential(agent);
    const s = await sign(agent, cred.key);
    expect(s.status).toBe(200);
    expect(s.body.data.serial_number).toBe(cert.serial_number);
    const t = await token(agent, cred.key);
    expect(t.status).toBe(201);
    expect(t.body.data.agent_id).toBe(agent);
    const signed = (await audit("key.signed")).filter((e) => e.agent_id === agent);
    expect(signed.at(-1)!.actor).toEqual({ type: "agent_credential", id: cred.id, agent_id: agent });
  });

  it("can do nothing else: no re-certify, no scope change, no revocation, no other agent, no new credentials", async () => {
    const a = await certified();
    const b = await certified();
    const cred = await credential(a.agent);
    const tries: [string, string, unknown][] = [
      ["POST", `/v1/agents/${a.agent}/certify`, undefined],
      ["PATCH", `/v1/agents/${a.agent}`, { scopes: ["*"] }],
      ["POST", `/v1/certificates/${b.cert.id}/revoke`, { reason: "framed" }],
      ["POST", `/v1/certificates/${a.cert.id}/revoke`, { reason: "self" }],
      ["POST", `/v1/agents/${a.agent}/credentials`, { name: "more" }],
      ["GET", `/v1/agents/${a.agent}`, undefined],
      ["GET", "/v1/agents", undefined],
      ["POST", "/v1/api-keys", { name: "x", role: "admin" }],
    ];
    for (const [method, path, body] of tries) {
      const r = await o.json<Problem>(method, path, { key: cred.key, body });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.body.type).toBe("urn:kakunin:problem:forbidden");
    }
    // Another agent of the same tenant does not exist for it: 404, like another tenant's records.
    expect((await sign(b.agent, cred.key)).status).toBe(404);
    expect((await token(b.agent, cred.key)).status).toBe(404);
    // Nothing changed.
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/certificates/${b.cert.id}`)).body.data.status).toBe("active");
    expect((await o.json<{ data: { scopes: string[] } }>("GET", `/v1/agents/${a.agent}`)).body.data.scopes).toEqual(agentBody().scopes);
  });

  it("a revoked credential stops at once (401); revoking twice is 409; another agent's credential id is 404", async () => {
    const { agent } = await certified();
    const other = await certified();
    const cred = await credential(agent);
    expect((await o.json<Problem>("POST", `/v1/agents/${other.agent}/credentials/${cred.id}/revoke`, { key: issuer })).status).toBe(404);
    const r = await o.json<{ data: Cred }>("POST", `/v1/agents/${agent}/credentials/${cred.id}/revoke`, { key: issuer });
    expect(r.status).toBe(200);
    expect(r.body.data.revoked_at).not.toBeNull();
    expect((await sign(agent, cred.key)).status).toBe(401);
    expect((await o.json("POST", `/v1/agents/${agent}/credentials/${cred.id}/revoke`, { key: issuer })).status).toBe(409);
    expect((await audit("agent_credential.revoked")).some((e) => e.data.credential_id === cred.id)).toBe(true);
  });

  it("cannot sign or mint tokens once its agent's certificate is revoked; retirement revokes it", async () => {
    const { agent, cert } = await certified();
    const cred = await credential(agent);
    expect((await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { key: issuer, body: { reason: "compromised" } })).status).toBe(200);
    const s = await sign(agent, cred.key);
    expect(s.status).toBe(409);
    expect(s.body.type).toBe("urn:kakunin:problem:no-active-certificate");
    expect((await token(agent, cred.key)).status).toBe(409);
    expect((await o.json("POST", `/v1/agents/${agent}/retire`, { key: issuer })).status).toBe(200);
    expect((await sign(agent, cred.key)).status).toBe(401);
    expect((await o.json("POST", `/v1/agents/${agent}/credentials`, { key: issuer, body: { name: "late" } })).status).toBe(422);
  });

  it("a risk suspension is lifted only by an admin with a reason, audited; an issuer or the agent gets 403", async () => {
    const { agent, cert } = await certified();
    const cred = await credential(agent);
    const alert = JSON.stringify({
      alert_id: `al-${cert.id}`, agent_id: agent, tenant_id: tenantId, serial_number: cert.serial_number, score: 0.95,
      reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "x" }], event_ids: ["e1"], triggered_at: new Date().toISOString(),
    });
    const headers = await signInternal(o.services.edgeSecret, "POST", "/internal/v1/risk-alerts", alert);
    const decided = await o.json<{ data: { decision: string } }>("POST", "/internal/v1/risk-alerts", { key: null, rawBody: alert, headers: { ...headers, "content-type": "application/json" } });
    expect(decided.body.data.decision).toBe("revoked");

    const byIssuer = await o.json<Problem>("POST", `/v1/agents/${agent}/certify`, { key: issuer, body: { reason: "looks fine to me" } });
    expect(byIssuer.status).toBe(403);
    expect(byIssuer.body.type).toBe("urn:kakunin:problem:risk-suspension");
    expect(byIssuer.body.detail).toContain("risk_threshold");
    expect((await o.json<Problem>("POST", `/v1/agents/${agent}/certify`, { key: cred.key, body: { reason: "me" } })).status).toBe(403);
    const noReason = await o.json<Problem>("POST", `/v1/agents/${agent}/certify`);
    expect(noReason.status).toBe(422);
    expect(noReason.body.detail).toContain("reason");
    // A 422 names the field it refuses, as every validation failure does (it once came without `errors`).
    expect(noReason.body.errors).toEqual([{ path: "reason", message: "required to lift a suspension made by the risk monitor" }]);
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/agents/${agent}`)).body.data.status).toBe("suspended");

    const lifted = await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`, { body: { reason: "false positive, ticket RISK-42" } });
    expect(lifted.status).toBe(201);
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/agents/${agent}`)).body.data.status).toBe("active");
    const entries = (await audit("agent.suspension_lifted")).filter((e) => e.agent_id === agent);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.actor).toMatchObject({ type: "api_key", role: "admin" });
    expect(entries[0]!.data).toMatchObject({ reason: "false positive, ticket RISK-42", risk_suspension: { certificate_id: cert.id } });
    // The credential is per agent: it works again with the new certificate.
    expect((await sign(agent, cred.key)).status).toBe(200);
  });

  it("a suspension not caused by risk is lifted by an issuer as before (audited, reason optional)", async () => {
    const { agent, cert } = await certified();
    await o.json("POST", `/v1/certificates/${cert.id}/revoke`, { key: issuer, body: { reason: "key rotation drill" } });
    expect((await o.json("POST", `/v1/agents/${agent}/certify`, { key: issuer })).status).toBe(201);
    const entries = (await audit("agent.suspension_lifted")).filter((e) => e.agent_id === agent);
    expect(entries[0]!.data).toMatchObject({ reason: null, risk_suspension: null });
    expect((await o.json("POST", `/v1/agents/${agent}/certify`, { key: issuer, body: { reason: 5 } })).status).toBe(422);
  });
});
