/**
 * Replaying a dead letter is an admin's act with real effects: a replayed risk alert can revoke an
 * agent's certificates and suspend it, a replayed event joins the agent's record. Those effects are
 * audited under the system actors that would have produced them on time (`risk-policy`, the edge),
 * and until 2026-12-07 nothing in the log said that an admin, and which one, made them happen now:
 * an auditor read an automatic revocation where a person had acted. The replay is audited
 * `dead_letter.replayed` in the tenant's log, naming the admin's key; a replay that fails, or is
 * refused, writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buryDeadLetter } from "../src/lifecycle/dead-letters.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Entry {
  index: number;
  kind: string;
  agent_id: string | null;
  entry: { actor: { type: string; id: string; role?: string }; data: Record<string, unknown> };
}

describe.each(dbKinds())("a dead letter's replay is audited on %s", (kind) => {
  let o: TestOrigin;
  let tenantId = "";
  let adminKeyId = "";
  let second = "";
  beforeAll(async () => {
    o = await startTestOrigin(kind);
    tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    const made = await o.json<{ data: { id: string; key: string } }>("POST", "/v1/api-keys", { body: { name: "second admin", role: "admin" } });
    second = made.body.data.key;
    adminKeyId = made.body.data.id;
  });
  afterAll(async () => {
    await o.close();
  });

  const entries = async () => (await o.json<{ data: Entry[] }>("GET", "/v1/audit/entries?limit=1000")).body.data;

  async function alertLetter(): Promise<{ agent: string; serial: string; id: string; alertId: string }> {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const serial = (await o.json<{ data: { serial_number: string } }>("POST", `/v1/agents/${agent}/certify`)).body.data.serial_number;
    const alertId = `late-${agent}`;
    const at = new Date().toISOString();
    const payload = {
      wire_version: 2,
      alert_id: alertId,
      agent_id: agent,
      tenant_id: tenantId,
      serial_number: serial,
      score: 0.95,
      reasons: [{ feature: "out_of_scope", contribution: 0.9, detail: "action 'payments.send' is not covered" }],
      event_ids: ["e1"],
      triggered_at: at,
    };
    const now = o.services.clock.now();
    await buryDeadLetter(
      o.services.db,
      {
        key: `edge:${agent}:alert:${alertId}`,
        source: "edge",
        kind: "alert",
        tenantId,
        agentId: agent,
        ref: alertId,
        status: 500,
        error: "origin answered 500",
        attempts: 6,
        payload: JSON.stringify(payload),
        firstFailedAt: now,
      },
      now,
    );
    const listed = await o.json<{ data: { id: string; ref: string }[] }>("GET", "/v1/admin/dead-letters?limit=200");
    return { agent, serial, alertId, id: listed.body.data.find((l) => l.ref === alertId)!.id };
  }

  it("a replayed alert that revokes an agent leaves an entry naming the admin who replayed it", async () => {
    const { agent, alertId, id } = await alertLetter();
    const before = (await entries()).length;
    const r = await o.json<{ data: { replay_result: string } }>("POST", `/v1/admin/dead-letters/${id}/replay`, { key: second });
    expect(r.status).toBe(200);
    expect(r.body.data.replay_result).toBe("decided: revoked");
    const added = (await entries()).slice(before);
    // The policy's decision, as it would have been on time…
    expect(added.find((e) => e.kind === "risk.decision")?.entry.actor).toMatchObject({ type: "system", id: "risk-policy" });
    // …and who made it happen now.
    const replayed = added.filter((e) => e.kind === "dead_letter.replayed");
    expect(replayed).toHaveLength(1);
    expect(replayed[0]!.entry.actor).toEqual({ type: "api_key", id: adminKeyId, role: "admin" });
    expect(replayed[0]!.entry.data).toMatchObject({ dead_letter_id: id, kind: "alert", ref: alertId, agent_id: agent, result: "decided: revoked" });
  });

  it("a replay that fails, or another tenant's attempt, writes no entry", async () => {
    const { id } = await alertLetter();
    const other = (await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `dlr-${kind}` } })).body.data.admin_api_key;
    const before = (await entries()).length;
    expect((await o.json("POST", `/v1/admin/dead-letters/${id}/replay`, { key: other })).status).toBe(404);
    const auditor = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "aud", role: "auditor" } })).body.data.key;
    expect((await o.json("POST", `/v1/admin/dead-letters/${id}/replay`, { key: auditor })).status).toBe(403);
    const now = o.services.clock.now();
    await buryDeadLetter(
      o.services.db,
      {
        key: `edge:bad:${id}`,
        source: "edge",
        kind: "alert",
        tenantId,
        agentId: null,
        ref: `bad-${id}`,
        status: 422,
        error: "x",
        attempts: 6,
        payload: "{not json",
        firstFailedAt: now,
      },
      now,
    );
    const bad = (await o.json<{ data: { id: string; ref: string }[] }>("GET", "/v1/admin/dead-letters?limit=200")).body.data.find(
      (l) => l.ref === `bad-${id}`,
    )!;
    expect((await o.json("POST", `/v1/admin/dead-letters/${bad.id}/replay`)).status).toBe(422);
    // Only the auditor key's creation was logged meanwhile.
    expect((await entries()).slice(before).map((e) => e.kind)).toEqual(["api_key.created"]);
  });
});
