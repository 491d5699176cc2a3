import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenants } from "../src/db/schema.ts";
import { dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

const postgres = dbKinds().includes("postgres");

/**
 * POST /v1/init is public. It took the operator tenant's row FOR UPDATE before looking at the
 * token, so anyone on the internet held that lock once per request: it conflicts with the KEY SHARE
 * lock every insert referencing the tenant takes (audit entries, events, agents of tenant
 * `default`), and each request queued behind it held one of the pool's connections. A stream of
 * guesses serialised the operator tenant's writes and could fill the pool. A guess must be
 * answered without any lock; only the right token takes it (init.test.ts covers that exchange).
 * PostgreSQL only: PGlite has one connection, so no two transactions ever overlap.
 */
describe.skipIf(!postgres)("POST /v1/init takes no lock for a caller without the token (postgres)", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("postgres");
  });
  afterAll(async () => {
    await o?.close();
  });

  it("is answered while a write referencing the operator tenant is in flight", async () => {
    let answer: { status: number; type?: string } | "still waiting after 10 s" | undefined;
    await o.services.db.transaction(async (tx) => {
      // What the foreign key check of any insert of the tenant's rows takes, held open here.
      await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.name, "default")).for("key share");
      const init = o
        .json<{ type: string }>("POST", "/v1/init", { key: null, body: { bootstrap_token: "kki_a-guess" } })
        .then((r) => ({ status: r.status, type: r.body.type }));
      answer = await Promise.race([init, new Promise<"still waiting after 10 s">((r) => setTimeout(() => r("still waiting after 10 s"), 10_000))]);
    });
    expect(answer).toEqual({ status: 409, type: "urn:kakunin:problem:already-initialized" });
  }, 30_000);
});
