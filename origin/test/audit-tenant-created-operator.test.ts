/**
 * Creating a tenant hands its first admin API key to the operator admin who asked: that admin can
 * then act as the new tenant's administrator. The `tenant.created` and `api_key.created` entries
 * went only to the new tenant's log, which the operator tenant's auditors cannot read (one log per
 * tenant), so the operator's own audit trail had no trace that its admin key created a tenant and
 * received an admin key of it. The operator's log now records it too, in the same transaction.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Entry {
  kind: string;
  entry: { actor: { type: string; id: string; role?: string }; data: Record<string, unknown> };
}

describe.each(dbKinds())("a tenant's creation is in the operator's log on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
  });
  afterAll(async () => {
    await o.close();
  });

  it("names the new tenant, its first admin key and the operator key that created it", async () => {
    const made = await o.json<{ data: { id: string; key: string } }>("POST", "/v1/api-keys", { body: { name: "ops admin", role: "admin" } });
    const auditor = (await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: "ops auditor", role: "auditor" } })).body.data.key;
    const created = await o.json<{ data: { id: string; admin_api_key: string } }>("POST", "/v1/tenants", {
      key: made.body.data.key,
      body: { name: `acme-${kind}` },
    });
    expect(created.status).toBe(201);
    const mine = (await o.json<{ data: Entry[] }>("GET", "/v1/audit/entries?kind=tenant.created&limit=1000", { key: auditor })).body.data;
    const entry = mine.find((e) => e.entry.data.tenant_id === created.body.data.id);
    expect(entry, "the operator's log records the creation").toBeDefined();
    expect(entry!.entry.actor).toEqual({ type: "api_key", id: made.body.data.id, role: "admin" });
    const newKeys = (await o.json<{ data: { id: string; prefix: string }[] }>("GET", "/v1/api-keys", { key: created.body.data.admin_api_key })).body.data;
    expect(entry!.entry.data).toMatchObject({ name: `acme-${kind}`, admin_api_key_id: newKeys[0]!.id, admin_api_key_prefix: newKeys[0]!.prefix });
    // The new tenant's own log is as before.
    const theirs = (await o.json<{ data: Entry[] }>("GET", "/v1/audit/entries?limit=10", { key: created.body.data.admin_api_key })).body.data;
    expect(theirs.map((e) => e.kind)).toEqual(["tenant.created", "api_key.created"]);
  });
});
