/**
 * The audit log is WORM: whatever reaches it can never be purged, and every auditor key of the
 * tenant reads it. No secret may be in it: API keys, agent credentials, ingest tokens and webhook
 * signing secrets appear at most as the 10-character prefix the key listings show (`kk_` plus 7 of
 * 43 random characters). The exception found: KAKUNIN_ADMIN_KEY is chosen by the operator (16
 * characters at least), and its `api_key.created` entry recorded its first 10 characters, most of
 * a short key, for every auditor to read for ever. That entry now records no part of it (the row's
 * id names the key; admins still see the prefix in GET /v1/api-keys).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "drizzle-orm";
import { agentBody, dbKinds, rowsOf, startTestOrigin, type TestOrigin } from "./harness.ts";

const ENV_KEY = "Zq9-PrivateAdmin-77";

describe.each(dbKinds())("no secret in the audit log on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind, { adminKey: ENV_KEY, env: { KAKUNIN_WEBHOOK_ALLOW_PRIVATE: "1" } });
  });
  afterAll(async () => {
    await o.close();
  });

  it("no key, credential, token or webhook secret (beyond a listing's prefix), and nothing of an operator-chosen admin key", async () => {
    const secrets: string[] = [];
    for (const role of ["admin", "issuer", "auditor"]) {
      secrets.push((await o.json<{ data: { key: string } }>("POST", "/v1/api-keys", { body: { name: role, role } })).body.data.key);
    }
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
    secrets.push((await o.json<{ data: { key: string } }>("POST", `/v1/agents/${agent}/credentials`, { body: { name: "rt" } })).body.data.key);
    secrets.push((await o.json<{ data: { token: string } }>("POST", `/v1/agents/${agent}/ingest-tokens`)).body.data.token);
    const hook = await o.json<{ data: { secret: string } }>("POST", "/v1/tenant/webhooks", { body: { url: "http://127.0.0.1:9/hook?token=abcdefghijkl" } });
    expect(hook.status).toBe(201);
    secrets.push(hook.body.data.secret, "abcdefghijkl");
    secrets.push((await o.json<{ data: { admin_api_key: string } }>("POST", "/v1/tenants", { body: { name: `ns-${kind}` } })).body.data.admin_api_key);
    const log = rowsOf<{ canonical: string }>(await o.services.db.execute(sql`select canonical from audit_entries`))
      .map((r) => r.canonical)
      .join("\n");
    for (const s of secrets) {
      expect(s.length).toBeGreaterThan(11);
      for (let i = 0; i + 11 <= s.length; i++) expect(log.includes(s.slice(i, i + 11)), `a part of ${s.slice(0, 6)}… is in the log`).toBe(false);
    }
    expect(log.includes(ENV_KEY.slice(0, 10)), "the operator-chosen admin key's first 10 characters are in the log").toBe(false);
  });
});
