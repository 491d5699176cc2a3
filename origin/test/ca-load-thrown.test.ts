/**
 * The CA layer memoises the root, each tenant's issuing CA and each tenant's tree-head signer, and
 * says "a load that fails is not remembered". That held for a load that *returned* a failure (a
 * KMS error) but not for one that *threw*: a database error while loading or creating one (the
 * connection dropped, PostgreSQL restarting, the `ca.created` audit entry refused with its
 * authority) left the rejected promise memoised, and every later call for that tenant (every
 * tree head, evidence export, certify, CRL) failed with the same stale error until the origin was
 * restarted, long after the database was back. Found by origin/test/audit-atomicity-faults.test.ts.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

describe.each(dbKinds())("a CA load that throws is retried on %s", (kind) => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin(kind);
    // A database error on every new authority (root, issuing CA, tree-head signer) while armed.
    for (const stmt of [
      "create table zz_refuse (armed boolean not null)",
      `create function zz_refuse_authority() returns trigger language plpgsql as $$
        begin if exists (select 1 from zz_refuse) then raise exception 'injected: authorities refused'; end if; return new; end $$`,
      "create trigger zz_refuse_authority before insert on authorities for each row execute function zz_refuse_authority()",
    ]) {
      await o.services.db.execute(sql.raw(stmt));
    }
  }, 120_000);
  afterAll(async () => {
    await o.close();
  });

  async function whileRefused<T>(f: () => Promise<T>): Promise<T> {
    await o.services.db.execute(sql.raw("insert into zz_refuse values (true)"));
    try {
      return await f();
    } finally {
      await o.services.db.execute(sql.raw("delete from zz_refuse"));
    }
  }

  it("the root and the operator tenant's issuing CA: GET /v1/ca and certify work once the database takes writes again", async () => {
    const refused = await whileRefused(() => o.json("GET", "/v1/ca"));
    expect(refused.status).toBeGreaterThanOrEqual(500);
    expect((await o.json("GET", "/v1/ca")).status).toBe(200);
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
  });

  it("a tenant's tree-head signer: tree heads and evidence work once the database takes writes again", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody() })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
    // A rollover makes the next tree head create a new signer (under the new issuing CA).
    expect((await o.json("POST", "/v1/tenant/ca/rollover")).status).toBeLessThan(300);
    const refused = await whileRefused(() => o.json("GET", "/v1/audit/tree-head"));
    expect(refused.status).toBeGreaterThanOrEqual(500);
    const head = await o.json("GET", "/v1/audit/tree-head");
    expect(head.status, JSON.stringify(head.body)).toBe(200);
    expect((await o.request("GET", `/v1/agents/${agent}/evidence`)).status).toBe(200);
  });
});
