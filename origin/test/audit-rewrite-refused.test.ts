import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * Someone who can write the database but not sign (the audit key lives in the KeyManager) turns
 * the append-only triggers off, rewrites the log and rebuilds its tree. Until 2026-12-07 the origin
 * signed whatever root the database gave it, and an export of the rewritten history verified
 * unless the auditor held an earlier head (red-team run). Before it signs a new head, the origin
 * now checks that the tree still has the root of the newest head it signed, and that head's
 * signature: a rewrite gets no new signed head.
 */
describe.each(dbKinds())("a rewritten audit log is not signed again, on %s", (kind) => {
  let o: TestOrigin;
  // No node cache: as after the restart an insider would need anyway (a warm cache still holds the tree as the origin built it).
  beforeEach(async () => {
    o = await startTestOrigin(kind, { env: { KAKUNIN_AUDIT_CACHE_MB: "0" } });
  });
  afterEach(async () => {
    await o.close();
  });

  const head = () => o.json<{ data: { tree_size: number }; type?: string; detail?: string }>("GET", "/v1/audit/tree-head");
  const grow = async (name: string) => expect((await o.json("POST", "/v1/agents", { body: agentBody({ name }) })).status).toBe(201);
  const TABLES = ["audit_entries", "audit_nodes", "audit_tree_heads"];
  const asInsider = async (statements: string[]) => {
    for (const t of TABLES) await o.services.db.execute(sql.raw(`alter table ${t} disable trigger user`));
    for (const s of statements) await o.services.db.execute(sql.raw(s));
    for (const t of TABLES) await o.services.db.execute(sql.raw(`alter table ${t} enable trigger user`));
  };

  it("refuses when the tree no longer has the signed root", async () => {
    await grow("first");
    expect((await head()).status).toBe(200);
    // Every stored hash of the tree changed (as a rebuild over rewritten entries would change them).
    await asInsider(["update audit_nodes set hash = sha256(hash)", "update audit_entries set leaf_hash = sha256(leaf_hash)"]);
    await grow("after-the-rewrite");
    const r = await head();
    expect({ status: r.status, type: r.body.type }).toEqual({ status: 500, type: "urn:kakunin:problem:audit-log-inconsistent" });
    expect(r.body.detail).toMatch(/no longer extends the tree head signed at size \d+ \(its root there is [0-9a-f]{64}, the signed one [0-9a-f]{64}\)/);
  });

  it("refuses when the stored head was changed to match (its signature no longer verifies)", async () => {
    await grow("first");
    const signed = (await head()).body.data.tree_size;
    await asInsider([`update audit_tree_heads set signature = sha256(signature) where tree_size = ${signed}`]);
    await grow("after-the-rewrite");
    const r = await head();
    expect({ status: r.status, type: r.body.type }).toEqual({ status: 500, type: "urn:kakunin:problem:audit-log-inconsistent" });
    expect(r.body.detail).toContain("the stored head's signature does not verify");
  });

  it("signs on as before when nothing was changed", async () => {
    for (const name of ["a", "b", "c"]) {
      await grow(name);
      expect((await head()).status).toBe(200);
    }
  });
});
