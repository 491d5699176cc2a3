import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestOrigin, type TestOrigin } from "./harness.ts";

type Ready = { status: string; checks: Record<string, { ok: boolean; detail?: string }> };

/**
 * GET /readyz needs no credential, and its key manager check is a real round trip to the KMS or
 * HSM. Every call made its own, so anyone on the internet set the rate of calls to the key manager:
 * on a PKCS#11 HSM they queue (FIFO) on the same 4 sessions as certify, sign and the OCSP and CRL
 * signatures a revocation publishes; on AWS KMS they spend the account's request quota; and against
 * a hung KMS each call left one more request outstanding. Concurrent and closely following calls
 * now share one probe (at most one a second per origin).
 */
describe("GET /readyz asks the key manager once for many callers", () => {
  let o: TestOrigin;
  let probes = 0;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
    expect((await o.json("GET", "/v1/ca")).status).toBe(200); // creates the CA keys, as main.ts does at start
    const real = o.services.keys.getPublicKey.bind(o.services.keys);
    o.services.keys.getPublicKey = async (ref) => {
      probes++;
      // A KMS round trip takes a while: the callers overlap.
      await new Promise((r) => setTimeout(r, 200));
      return real(ref);
    };
  });
  afterAll(async () => {
    await o.close();
  });

  it("20 concurrent anonymous calls: one key manager round trip, every answer ready", async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => o.json<Ready>("GET", "/readyz", { key: null })));
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.body.checks.key_manager?.ok).toBe(true);
    }
    expect(probes).toBe(1);
  });
});
