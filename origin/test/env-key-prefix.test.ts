import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * A key's stored `prefix` is shown in key listings, the console, and the `api_key.created` audit
 * entry, which auditors read and the WORM archive keeps for good. Ten characters of a generated
 * key (`kk_` + 43 random) are 42 of its 256 bits; ten characters of a KAKUNIN_ADMIN_KEY, which an
 * operator chooses and may be as short as 16 characters, were most of it: an auditor learnt all
 * but six characters of the bootstrap admin key.
 */
describe.each(dbKinds())("the prefix shown for a chosen key, on %s", (kind) => {
  let o: TestOrigin;
  // 16 characters, the shortest KAKUNIN_ADMIN_KEY the origin accepts.
  const adminKey = randomBytes(12).toString("base64url");
  beforeAll(async () => {
    o = await startTestOrigin(kind, { adminKey });
  });
  afterAll(async () => {
    await o.close();
  });

  it("reveals at most a quarter of a KAKUNIN_ADMIN_KEY; generated keys keep their 10 characters", async () => {
    expect(adminKey).toHaveLength(16);
    const auditor = (await o.json<{ data: { key: string; prefix: string } }>("POST", "/v1/api-keys", { body: { name: "audit", role: "auditor" } })).body.data;
    expect(auditor.prefix).toBe(auditor.key.slice(0, 10));
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    const cred = (await o.json<{ data: { key: string; prefix: string } }>("POST", `/v1/agents/${agent}/credentials`)).body.data;
    expect(cred.prefix).toBe(cred.key.slice(0, 10));

    const listed = (await o.json<{ data: { name: string; prefix: string }[] }>("GET", "/v1/api-keys")).body.data;
    const env = listed.find((k) => k.name.includes("KAKUNIN_ADMIN_KEY"))!;
    expect(adminKey.startsWith(env.prefix)).toBe(true);
    expect(env.prefix.length).toBeLessThanOrEqual(4);
    const audit = await o.json<{ data: { kind: string; canonical: string }[] }>("GET", "/v1/audit/entries?kind=api_key.created", { key: auditor.key });
    expect(audit.status).toBe(200);
    for (const e of audit.body.data) expect(e.canonical, "what an auditor reads").not.toContain(adminKey.slice(0, 5));
  });
});
