import { createExecutionContext, reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { CrlRecord } from "@kakunin/shared";
import { app } from "../src/app.ts";
import { StatusCache } from "../src/verify/status-cache.ts";
import { env, nextV, publish } from "./fixtures.ts";

afterEach(async () => {
  vi.restoreAllMocks();
  await reset();
});

/** Each test its own tenant: the isolate's cache outlives reset(). */
const crlRec = (tenant: string, der: string): CrlRecord => ({
  kind: "crl",
  v: nextV(),
  tenant_id: tenant,
  crl_b64: btoa(der),
  this_update: "2026-03-01T10:20:30.456Z",
  next_update: "2026-03-02T10:20:30.456Z",
  chain_pem: "PEMCHAIN",
});

/** The real KV, counting reads. */
function countingKv(): { kv: KVNamespace; reads: () => number } {
  let n = 0;
  const get = (key: string) => {
    n++;
    return env.CERT_STATUS.get(key);
  };
  return { kv: { get } as unknown as KVNamespace, reads: () => n };
}

/** A KV whose one read is answered when the test says so (a read in flight during a delivery). */
function slowKv(): { kv: KVNamespace; asked: Promise<void>; answer: (value: string) => void } {
  let answer!: (value: string) => void;
  let asked!: () => void;
  const askedP = new Promise<void>((r) => (asked = r));
  const value = new Promise<string>((r) => (answer = r));
  const get = async () => {
    asked();
    return value;
  };
  return { kv: { get } as unknown as KVNamespace, asked: askedP, answer };
}

const fetchWith = (path: string, kv: KVNamespace, headers: Record<string, string> = {}) =>
  app.fetch(new Request(`http://edge${path}`, { headers }), { ...env, CERT_STATUS: kv, KAKUNIN_VERIFY_CACHE_MS: "1000" }, createExecutionContext());

/**
 * Every CRL request parsed the KV record (up to ~1.1 MB of JSON), decoded the base64 byte by byte
 * and SHA-256-hashed the DER for its ETag: unauthenticated, uncached, milliseconds of CPU each. An
 * isolate now prepares a record once per cache period (pki-cache.ts), with the verify cache's bound
 * and invalidation.
 */
describe("CRL and CA records are prepared once per isolate and cache period", () => {
  it("repeated CRL requests (200 and 304 alike) read KV and hash the DER once", async () => {
    const tenant = crypto.randomUUID();
    await publish([crlRec(tenant, "CRL-ONE")]);
    const kv = countingKv();
    const digest = vi.spyOn(crypto.subtle, "digest");
    const first = await fetchWith(`/v1/crl/${tenant}`, kv.kv);
    expect([first.status, await first.text()]).toEqual([200, "CRL-ONE"]);
    const etag = first.headers.get("etag")!;
    for (let i = 0; i < 5; i++) {
      const again = await fetchWith(`/v1/crl/${tenant}`, kv.kv);
      expect([again.status, again.headers.get("etag"), await again.text()]).toEqual([200, etag, "CRL-ONE"]);
      const same = await fetchWith(`/v1/crl/${tenant}`, kv.kv, { "if-none-match": etag });
      expect([same.status, same.headers.get("etag")]).toEqual([304, etag]);
    }
    expect(kv.reads()).toBe(1);
    expect(digest).toHaveBeenCalledTimes(1);
  });

  it("the chain, served from the same record, is not re-parsed per request either", async () => {
    const tenant = crypto.randomUUID();
    await publish([crlRec(tenant, "CRL-ONE")]);
    const kv = countingKv();
    const bodies = [];
    for (let i = 0; i < 4; i++) bodies.push(await (await fetchWith(`/v1/ca/${tenant}`, kv.kv)).text());
    expect(bodies).toEqual(Array(4).fill("PEMCHAIN"));
    expect(kv.reads()).toBe(1);
  });

  it("a delivery of a newer CRL is served by this isolate at once, whatever it cached", async () => {
    const tenant = crypto.randomUUID();
    await publish([crlRec(tenant, "CRL-ONE")]);
    const kv = countingKv();
    expect(await (await fetchWith(`/v1/crl/${tenant}`, kv.kv)).text()).toBe("CRL-ONE");
    expect((await publish([crlRec(tenant, "CRL-TWO")])).status).toBe(200);
    expect(await (await fetchWith(`/v1/crl/${tenant}`, kv.kv)).text()).toBe("CRL-TWO");
    expect(await (await fetchWith(`/v1/ca/${tenant}`, kv.kv)).text()).toBe("PEMCHAIN");
  });

  it("a read in flight during a delivery is answered but not kept", async () => {
    const tenant = crypto.randomUUID();
    const old = crlRec(tenant, "CRL-ONE");
    await publish([old]);
    const slow = slowKv();
    const inFlight = fetchWith(`/v1/crl/${tenant}`, slow.kv);
    await slow.asked;
    // A revocation re-signed the CRL; the origin's revoke answers once this is acknowledged.
    expect((await publish([crlRec(tenant, "CRL-TWO")])).status).toBe(200);
    slow.answer(JSON.stringify(old));
    expect(await (await inFlight).text()).toBe("CRL-ONE");
    const after = await exports.default.fetch(`http://edge/v1/crl/${tenant}`);
    expect(await after.text()).toBe("CRL-TWO");
  });

  it("StatusCache with a weight budget evicts the oldest entries to stay under it, and never keeps one over it", () => {
    const c = new StatusCache<string>(100, 10, (v) => v.length);
    c.set("a", "aaaa", 0, 1000);
    c.set("b", "bbbb", 0, 1000);
    c.set("c", "cccc", 0, 1000);
    expect([c.get("a", 1), c.get("b", 1), c.get("c", 1)]).toEqual([undefined, "bbbb", "cccc"]);
    c.set("big", "x".repeat(11), 0, 1000);
    expect([c.get("big", 1), c.size]).toEqual([undefined, 2]);
    c.delete("b");
    c.set("d", "dddddd", 0, 1000);
    expect([c.get("c", 1), c.get("d", 1)]).toEqual(["cccc", "dddddd"]);
  });
});
