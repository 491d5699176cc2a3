import { createExecutionContext, reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { OCSP_TRY_LATER } from "@kakunin/shared";
import { app } from "../src/app.ts";
import { StatusCache } from "../src/verify/status-cache.ts";
import { certRec, env, nextV, publish } from "./fixtures.ts";
import { FIXTURE_SERIAL, LONG_B64, REQUEST_B64 } from "./ocsp-fixtures.ts";

afterEach(async () => {
  await reset();
  // The caches outlive reset(): let this test's entries for the fixture serial expire.
  await new Promise((r) => setTimeout(r, 1_050));
});

/**
 * A KV binding whose reads are answered when the test says so: a read that went to KV before a
 * delivery wrote the new record, and whose answer (the old record) comes back after it.
 */
function slowKv(): { kv: KVNamespace; asked: Promise<void>; answer: (values: Record<string, string | null>) => void } {
  let answer!: (values: Record<string, string | null>) => void;
  let asked!: () => void;
  const askedP = new Promise<void>((r) => (asked = r));
  const values = new Promise<Record<string, string | null>>((r) => (answer = r));
  const get = async (key: string | string[]) => {
    asked();
    const v = await values;
    return Array.isArray(key) ? new Map(key.map((k) => [k, v[k] ?? null])) : (v[key] ?? null);
  };
  return { kv: { get } as unknown as KVNamespace, asked: askedP, answer };
}

const der = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const ocspPost = async (fetcher: (r: Request) => Response | Promise<Response>): Promise<Response> =>
  fetcher(new Request("http://edge/v1/ocsp", { method: "POST", headers: { "content-type": "application/ocsp-request" }, body: der(REQUEST_B64) }));

describe("a read in flight while this isolate takes a delivery", () => {
  it("verify: the next read after the delivery is answered from the new record, not the in-flight read's old one", async () => {
    const rec = certRec();
    await publish([rec]);
    const slow = slowKv();
    // Cached as long as the configuration allows (1 s), so the old code's stale entry is seen whatever the machine's load.
    const inFlight = app.fetch(
      new Request(`http://edge/v1/verify/${rec.serial_number}`),
      { ...env, CERT_STATUS: slow.kv, KAKUNIN_VERIFY_CACHE_MS: "1000" },
      createExecutionContext(),
    );
    await slow.asked;
    const revoked = { ...rec, v: nextV(), status: "revoked" as const, revoked_at: new Date().toISOString(), revocation_reason: "key_compromise" };
    // The origin's revoke answers once this delivery is acknowledged.
    expect((await publish([revoked])).status).toBe(200);
    slow.answer({ [`cert:${rec.serial_number}`]: JSON.stringify(rec) });
    expect((await (await inFlight).json<{ data: { status: string } }>()).data.status).toBe("active"); // it was asked before
    const after = await exports.default.fetch(`http://edge/v1/verify/${rec.serial_number}`);
    expect((await after.json<{ data: { status: string } }>()).data.status).toBe("revoked");
  });

  it("OCSP: the next request after the delivery gets the new record's answer, not the in-flight read's response", async () => {
    const rec = certRec({ serial_number: FIXTURE_SERIAL, ocsp_b64: LONG_B64 });
    await publish([rec]);
    const slow = slowKv();
    const inFlight = ocspPost((r) => app.fetch(r, { ...env, CERT_STATUS: slow.kv, KAKUNIN_VERIFY_CACHE_MS: "1000" }, createExecutionContext()));
    await slow.asked;
    // Revoked, its response not signed yet (key manager down): tryLater, never the old "good".
    const revoked = {
      ...rec,
      v: nextV(),
      status: "revoked" as const,
      revoked_at: new Date().toISOString(),
      revocation_reason: "key_compromise",
      ocsp_b64: null,
    };
    expect((await publish([revoked])).status).toBe(200);
    slow.answer({ [`cert:${FIXTURE_SERIAL}`]: JSON.stringify(rec) });
    expect(new Uint8Array(await (await inFlight).arrayBuffer())).toEqual(der(LONG_B64));
    const after = await ocspPost((r) => exports.default.fetch(r));
    expect(new Uint8Array(await after.arrayBuffer())).toEqual(OCSP_TRY_LATER);
  });
  it("StatusCache.set keeps a value only when no delete() ran since its read started", () => {
    const c = new StatusCache<string>();
    const since = c.readStarted();
    c.set("a", "fresh", 0, 200, since);
    expect(c.get("a", 1)).toBe("fresh");
    const before = c.readStarted();
    c.delete("b");
    c.set("a", "old", 0, 200, before);
    expect(c.get("a", 1)).toBe("fresh");
    c.set("a", "new", 0, 200, c.readStarted());
    expect(c.get("a", 1)).toBe("new");
  });
});
