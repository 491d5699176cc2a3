import { randomBytes } from "node:crypto";
import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyIngestToken } from "@kakunin/shared";
import { bootstrap } from "../src/bootstrap.ts";
import { ManualClock } from "../src/clock.ts";
import { outbox } from "../src/db/schema.ts";
import { agentRecord } from "../src/publish/records.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * Changing KAKUNIN_ADMIN_KEY revokes the previous bootstrap key at start (docs/security.md,
 * "Rotating KAKUNIN_ADMIN_KEY"), and "ingest tokens an API key minted die with the key". Before
 * this test the start revoked the row but republished nothing, so every agent holding a token the
 * old key had minted kept posting events at the edge for up to 24 h after the rotation: only
 * DELETE /v1/api-keys/:id told the edge.
 */
describe.each(dbKinds())("a KAKUNIN_ADMIN_KEY rotation voids the ingest tokens the old key minted, on %s", (kind) => {
  let o: TestOrigin;
  // The bootstrap stamps its revocation with the wall clock: the test clock starts now.
  const clock = new ManualClock(new Date());
  const oldKey = `env-admin-${randomBytes(12).toString("hex")}`;
  beforeAll(async () => {
    o = await startTestOrigin(kind, { clock, adminKey: oldKey });
  });
  afterAll(async () => {
    await o.close();
  });

  const pendingAgents = async () =>
    (
      await o.services.db
        .select({ subject: outbox.subject })
        .from(outbox)
        .where(and(eq(outbox.kind, "agent"), isNull(outbox.deliveredAt)))
    ).map((r) => r.subject);

  it("the agents the old key minted live tokens for are republished listing it", async () => {
    const agent = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "minted-by-env-key" }) })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${agent}/certify`)).status).toBe(201);
    const other = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name: "no-token" }) })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${other}/certify`)).status).toBe(201);
    const minted = await o.json<{ data: { token: string } }>("POST", `/v1/agents/${agent}/ingest-tokens`, { body: { ttl_seconds: 3600 } });
    expect(minted.status).toBe(201);
    const claims = await verifyIngestToken(o.services.edgeSecret, minted.body.data.token, clock.now());
    const oldKeyId = claims.ok ? claims.claims.key : undefined;
    expect(oldKeyId).toEqual(expect.any(String));
    // Everything so far has reached the edge.
    await o.services.db.update(outbox).set({ deliveredAt: clock.now() }).where(isNull(outbox.deliveredAt));

    const boot = await bootstrap(o.services.db, `env-admin-${randomBytes(12).toString("hex")}`);
    expect(boot.replacedAdminKeys).toEqual([oldKeyId]);
    expect(await pendingAgents(), "the agent's record is queued for the edge").toEqual([agent]);
    clock.advance(1000);
    expect((await agentRecord(o.services, agent, 1))?.revoked_credentials).toEqual([oldKeyId]);
    expect((await agentRecord(o.services, other, 1))?.revoked_credentials ?? []).toEqual([]);
  });
});
