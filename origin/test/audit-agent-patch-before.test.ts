/**
 * An `agent.updated` entry recorded only the PATCH body (`changes`): what the owner, scopes or
 * sensitivity became, never what they were. An investigator reading the entry ("scopes became
 * ['*']") could not tell what was widened without replaying every earlier entry of the agent from
 * its creation, which an excerpt of the log (an entries page, a windowed export) does not hold;
 * `policy.updated` and `scoring.updated` have always carried both. The entry now also carries
 * `before`: the previous value of every field the PATCH names.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Entry {
  kind: string;
  entry: { data: { changes: Record<string, unknown>; before?: Record<string, unknown> } };
}

describe.each(dbKinds())("agent.updated says what changed from on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("names each patched field's previous value beside the new one", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const patch = { owner: { email: "mallory@bank.example" }, scopes: ["*"], sensitivity: "low", model: { version: "2025-01-01" } };
    expect((await o.json("PATCH", `/v1/agents/${agent}`, { body: patch })).status).toBe(200);
    expect((await o.json("PATCH", `/v1/agents/${agent}`, { body: { name: "renamed-bot" } })).status).toBe(200);
    const updates = (await o.json<{ data: Entry[] }>("GET", `/v1/audit/entries?agent_id=${agent}&kind=agent.updated`)).body.data;
    expect(updates).toHaveLength(2);
    expect(updates[0]!.entry.data.changes).toEqual(patch);
    expect(updates[0]!.entry.data.before).toEqual({
      owner: { email: "alice@bank.example" },
      scopes: ["orders.*", "crm.lookup_customer"],
      sensitivity: "normal",
      model: { version: "2024-08-06" },
    });
    expect(updates[1]!.entry.data.before).toEqual({ name: "trading-bot-7f3a" });
  });
});
