/**
 * A PATCH that changes nothing (every field it names already has that value: a client re-applying
 * its desired state, a deploy script run twice) still wrote an `agent.updated` entry, moved
 * `updated_at` and republished the agent. The audit trail then claimed a change nobody made, in the
 * agent's lifecycle chain that every evidence bundle carries whole, and a reviewer counting changes
 * to an agent's scopes counted edits that did not happen. Such a PATCH now answers 200 with the
 * agent as it is and writes nothing. A PATCH that changes one field among unchanged ones is audited
 * as before (its `changes` are the request, its `before` the previous values).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, dbKinds, SAMPLE_HASH, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Entry {
  kind: string;
  entry: { data: { changes: Record<string, unknown> } };
}

describe.each(dbKinds())("a PATCH that changes nothing on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("writes no agent.updated entry and leaves updated_at as it was", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cert = await o.json<{ data: { id: string } }>("POST", `/v1/agents/${agent}/certify`);
    expect(cert.status).toBe(201);
    const before = (await o.json<{ data: { updated_at: string } }>("GET", `/v1/agents/${agent}`)).body.data;
    const same = {
      name: "trading-bot-7f3a",
      model: { hash: SAMPLE_HASH, version: "2024-08-06" },
      owner: { email: "alice@bank.example" },
      scopes: ["orders.*", "crm.lookup_customer"],
      sensitivity: "normal",
    };
    const r = await o.json<{ data: { id: string; updated_at: string; scopes: string[] } }>("PATCH", `/v1/agents/${agent}`, { body: same });
    expect(r.status).toBe(200);
    expect(r.body.data.scopes).toEqual(same.scopes);
    expect(r.body.data.updated_at).toBe(before.updated_at);
    expect(r.res.headers.get("kakunin-superseded-certificate")).toBeNull();
    const updates = async () => (await o.json<{ data: Entry[] }>("GET", `/v1/audit/entries?agent_id=${agent}&kind=agent.updated`)).body.data;
    expect(await updates()).toEqual([]);
    // The certificate is untouched (the model hash named is the current one).
    expect((await o.json<{ data: { status: string } }>("GET", `/v1/certificates/${cert.body.data.id}`)).body.data.status).toBe("active");

    // One real change among unchanged fields is audited, with the request as its changes.
    const mixed = { name: "trading-bot-7f3a", scopes: ["orders.*"] };
    expect((await o.json("PATCH", `/v1/agents/${agent}`, { body: mixed })).status).toBe(200);
    const after = await updates();
    expect(after).toHaveLength(1);
    expect(after[0]!.entry.data.changes).toEqual(mixed);
  });
});
