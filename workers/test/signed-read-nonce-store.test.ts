import { reset, runInDurableObject } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { signInternal } from "@kakunin/shared";
import { readNonceStore } from "../src/ledger/client.ts";
import type { StatusLedger } from "../src/ledger/status-ledger.ts";
import { env, SECRET } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

const nonceCount = (stub: DurableObjectStub<StatusLedger>) =>
  runInDurableObject(stub, async (_l: StatusLedger, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM nonces").one().n);

/**
 * Signed reads spend their nonce (bef5a5b), but they spent it in the publish coordinator: the one
 * object that admits every batch of status records (revocations included) for every tenant, with a
 * sweep of expired nonces that scanned the whole table on every call. GET /v1/agents/:id/risk on
 * the origin, which any agent credential may call for its own agent as fast as it likes, became a
 * write to that object, each call scanning the ~6 minutes of nonces the calls before it left: one
 * agent's key could load the object every tenant's revocations wait on. Read nonces are now kept
 * apart (spread over objects by the nonce, so a replay meets its first use), and the sweep reads
 * an index.
 */
describe("signed reads spend their nonce outside the publish coordinator", () => {
  it("a risk read and a metrics read leave no nonce in the coordinator, and their replay is still refused", async () => {
    const paths = [`/v1/agents/${crypto.randomUUID()}/risk`, "/v1/admin/metrics"];
    for (const path of paths) {
      const headers = await signInternal(SECRET, "GET", path, "");
      expect((await exports.default.fetch(`http://edge${path}`, { headers })).status).toBe(200);
      const again = await exports.default.fetch(`http://edge${path}`, { headers });
      expect(again.status).toBe(401);
      expect(again.headers.get("content-type")).toMatch(/problem\+json/);
      // Where the nonce went: the store that answers for it, not the coordinator.
      expect(await nonceCount(readNonceStore(env, headers["kakunin-nonce"]!))).toBeGreaterThan(0);
    }
    expect(await nonceCount(env.STATUS_LEDGER.getByName("global"))).toBe(0);
  });

  it("the sweep of expired nonces reads an index, not the whole table", async () => {
    const plan = await runInDurableObject(env.STATUS_LEDGER.getByName("global"), async (_l: StatusLedger, state) =>
      state.storage.sql
        .exec<{ detail: string }>("EXPLAIN QUERY PLAN DELETE FROM nonces WHERE expires_at < ?", Date.now())
        .toArray()
        .map((r) => r.detail)
        .join("; "),
    );
    expect(plan).toMatch(/USING (COVERING )?INDEX/);
  });
});
