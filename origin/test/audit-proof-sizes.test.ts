/**
 * Which log size the proof routes answer for, now that the origin remembers committed sizes
 * (audit/log-size.ts): a size named by the request is served when known to be committed and
 * refused only on a fresh read; without `tree_size`, the size read at most 1 s ago, unless the
 * entry is past it (then read again). The log is grown by appends this origin is not told about,
 * as another origin's would be.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendAudit } from "../src/audit/append.ts";
import { CURRENT_SIZE_MAX_AGE_MS } from "../src/audit/log-size.ts";
import { SYSTEM } from "../src/audit/types.ts";
import { ManualClock } from "../src/clock.ts";
import { dbKinds, rowsOf, startTestOrigin, type TestOrigin } from "./harness.ts";

interface Inclusion {
  data: { tree_size: number; root_hash: string };
}

describe.each(dbKinds())("proof sizes on %s", (kind) => {
  const clock = new ManualClock();
  let o: TestOrigin;
  let tenantId = "";
  const grow = (n: number) =>
    o.services.db.transaction((tx) =>
      appendAudit(
        tx,
        tenantId,
        Array.from({ length: n }, (_, i) => ({ kind: "policy.updated" as const, actor: SYSTEM("elsewhere"), data: { i }, at: clock.now() })),
      ),
    );
  const size = async () =>
    Number(rowsOf<{ size: string | number }>(await o.services.db.execute(`select size from audit_heads where tenant_id = '${tenantId}'`))[0]!.size);

  beforeAll(async () => {
    o = await startTestOrigin(kind, { clock });
    tenantId = (await o.json<{ data: { id: string } }>("GET", "/v1/tenant")).body.data.id;
    await grow(20);
  }, 120_000);
  afterAll(async () => {
    await o?.close();
  });

  it("answers a request without tree_size for a size at most CURRENT_SIZE_MAX_AGE_MS old, never one that does not exist", async () => {
    const s0 = await size();
    expect((await o.json<Inclusion>("GET", "/v1/audit/proofs/inclusion?entry=0")).body.data.tree_size).toBe(s0);
    await grow(5);
    // Within the bound: the remembered (committed, smaller) size; the answer says which.
    clock.advance(CURRENT_SIZE_MAX_AGE_MS - 1);
    expect((await o.json<Inclusion>("GET", "/v1/audit/proofs/inclusion?entry=0")).body.data.tree_size).toBe(s0);
    // An entry past it is looked up afresh, not refused.
    const newest = await o.json<Inclusion>("GET", `/v1/audit/proofs/inclusion?entry=${s0 + 4}`);
    expect(newest.status).toBe(200);
    expect(newest.body.data.tree_size).toBe(s0 + 5);
    await grow(3);
    clock.advance(CURRENT_SIZE_MAX_AGE_MS);
    expect((await o.json<Inclusion>("GET", "/v1/audit/proofs/inclusion?entry=0")).body.data.tree_size).toBe(s0 + 8);
    expect((await o.json("GET", `/v1/audit/proofs/inclusion?entry=${s0 + 8}`)).status).toBe(404);
  });

  it("serves a named size the origin has not seen yet, and refuses one past the log only on a fresh read", async () => {
    const s0 = await size();
    expect((await o.json("GET", `/v1/audit/proofs/consistency?from=1&to=${s0}`)).status).toBe(200);
    await grow(7);
    const r = await o.json<{ data: { second: number } }>("GET", `/v1/audit/proofs/consistency?from=${s0}&to=${s0 + 7}`);
    expect(r.status).toBe(200);
    expect(r.body.data.second).toBe(s0 + 7);
    expect((await o.json("GET", `/v1/audit/proofs/inclusion?entry=${s0 + 6}&tree_size=${s0 + 7}`)).status).toBe(200);
    const past = await o.json<{ errors: { path: string; message: string }[] }>("GET", `/v1/audit/proofs/consistency?from=1&to=${s0 + 8}`);
    expect(past.status).toBe(422);
    expect(past.body.errors[0]!.message).toBe(`the log has ${s0 + 7} entries`);
    expect((await o.json("GET", `/v1/audit/proofs/inclusion?entry=0&tree_size=${s0 + 8}`)).status).toBe(422);
  });
});
