import { and, eq, isNull } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyIngestToken } from "@kakunin/shared";
import { ManualClock } from "../src/clock.ts";
import { ingestTokenMinters, outbox } from "../src/db/schema.ts";
import { recordMinter } from "../src/lifecycle/ingest-token-minters.ts";
import { agentRecord } from "../src/publish/records.ts";
import { Refresher } from "../src/publish/refresher.ts";
import { agentBody, dbKinds, startTestOrigin, type TestOrigin } from "./harness.ts";

/**
 * Ingest tokens are checked at the edge without the origin, so revoking the API key that minted
 * them must reach the edge, as revoking an agent credential does: through the records of the
 * agents it minted for. Before 2026-12-07 a leaked issuer key, once revoked, left every token it
 * had minted posting events (for any agent of the tenant) for up to 24 h.
 */
describe.each(dbKinds())("revoking an API key voids the ingest tokens it minted, on %s", (kind) => {
  let o: TestOrigin;
  const clock = new ManualClock(new Date("2026-06-01T00:00:00Z"));
  beforeAll(async () => {
    o = await startTestOrigin(kind, { clock });
  });
  afterAll(async () => {
    await o.close();
  });

  const newKey = async (name: string) =>
    (await o.json<{ data: { id: string; key: string } }>("POST", "/v1/api-keys", { body: { name, role: "issuer" } })).body.data;
  const certified = async (name: string) => {
    const id = (await o.json<{ data: { id: string } }>("POST", "/v1/agents", { body: agentBody({ name }) })).body.data.id;
    expect((await o.json("POST", `/v1/agents/${id}/certify`)).status).toBe(201);
    return id;
  };
  const mint = async (agent: string, key: string, ttl: number) => {
    const r = await o.json<{ data: { token: string } }>("POST", `/v1/agents/${agent}/ingest-tokens`, { key, body: { ttl_seconds: ttl } });
    expect(r.status).toBe(201);
    return r.body.data.token;
  };
  const pendingAgents = async () =>
    (
      await o.services.db
        .select({ subject: outbox.subject })
        .from(outbox)
        .where(and(eq(outbox.kind, "agent"), isNull(outbox.deliveredAt)))
    ).map((r) => r.subject);
  const listed = async (agent: string) => (await agentRecord(o.services, agent, 1))?.revoked_credentials ?? [];

  it("the agents it minted live tokens for are republished listing the key; others are not", async () => {
    const leaked = await newKey("leaked-issuer");
    const [a, b, c] = [await certified("minted-a"), await certified("minted-b"), await certified("admin-only")];
    const token = await mint(a, leaked.key, 600);
    await mint(b, leaked.key, 3600);
    const fromAdmin = await mint(c, o.adminKey, 3600);
    // The token names its minter, as an agent credential's token does.
    const claims = await verifyIngestToken(o.services.edgeSecret, token, clock.now());
    expect(claims.ok && claims.claims.key).toBe(leaked.id);
    const adminClaims = await verifyIngestToken(o.services.edgeSecret, fromAdmin, clock.now());
    expect(adminClaims.ok && adminClaims.claims.key).toEqual(expect.any(String));
    expect(await listed(a)).toEqual([]);

    await o.services.db.update(outbox).set({ deliveredAt: clock.now() }).where(isNull(outbox.deliveredAt));
    clock.advance(60_000);
    expect((await o.json("DELETE", `/v1/api-keys/${leaked.id}`)).status).toBe(200);
    expect((await pendingAgents()).sort()).toEqual([a, b].sort());
    expect(await listed(a)).toEqual([leaked.id]);
    expect(await listed(b)).toEqual([leaked.id]);
    expect(await listed(c)).toEqual([]);
    // The revoked key mints nothing more (401 at the door).
    expect((await o.json("POST", `/v1/agents/${c}/ingest-tokens`, { key: leaked.key })).status).toBe(401);
  });

  it("a key whose tokens had all expired before its revocation republishes nothing; listings and minting rows end with the tokens", async () => {
    const old = await newKey("short-lived-minter");
    const d = await certified("expired-token");
    await mint(d, old.key, 60);
    clock.advance(5 * 60_000);
    await o.services.db.update(outbox).set({ deliveredAt: clock.now() }).where(isNull(outbox.deliveredAt));
    expect((await o.json("DELETE", `/v1/api-keys/${old.id}`)).status).toBe(200);
    expect(await pendingAgents()).toEqual([]);
    expect(await listed(d)).toEqual([]);

    // A day and more later no token of any revoked key lives: nothing is listed, the rows are gone.
    const live = await newKey("live-minter");
    const e = await certified("pruned");
    await mint(e, live.key, 3600);
    expect(await o.services.db.select().from(ingestTokenMinters)).not.toEqual([]);
    clock.advance(26 * 3_600_000);
    await new Refresher(o.services).runOnce();
    expect(await o.services.db.select().from(ingestTokenMinters)).toEqual([]);
  });

  it("a mint that finds its key revoked inside its transaction records nothing and says so", async () => {
    const raced = await newKey("raced");
    const f = await certified("raced-agent");
    expect((await o.json("DELETE", `/v1/api-keys/${raced.id}`)).status).toBe(200);
    const recorded = await o.services.db.transaction((tx) => recordMinter(tx, raced.id, f, new Date(clock.now().getTime() + 3_600_000)));
    expect(recorded).toBe(false);
    expect(await o.services.db.select().from(ingestTokenMinters).where(eq(ingestTokenMinters.agentId, f))).toEqual([]);
  });
});
