import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { ocspResponseTimes } from "../src/ocsp/response-times.ts";
import { DEFAULT_TTL_MS } from "../src/verify/status-cache.ts";
import { OCSP_TRY_LATER } from "@kakunin/shared";
import { certRec, nextV, publish } from "./fixtures.ts";
import { FIXTURE_SERIAL, LONG_B64, LONG_THIS_UPDATE, NO_NEXT_B64, REQUEST_B64, SHORT_B64 } from "./ocsp-fixtures.ts";

afterEach(async () => {
  await reset();
  // reset() clears storage, not the isolate's caches (verify/status-cache.ts): let the previous
  // test's entries for the same fixture serial expire, or the next test reads them.
  await sleep(DEFAULT_TTL_MS + 5);
});

const der = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
/** RFC 6960 appendix A.1 / RFC 5019 §5: GET {url}/{url-encoding of base64 of the DER request}. */
const get = (headers: Record<string, string> = {}) => exports.default.fetch(`http://edge/v1/ocsp/${encodeURIComponent(REQUEST_B64)}`, { headers });
const post = () =>
  exports.default.fetch("http://edge/v1/ocsp", { method: "POST", headers: { "content-type": "application/ocsp-request" }, body: der(REQUEST_B64) });
const maxAge = (r: Response) => Number(/max-age=(\d+)/.exec(r.headers.get("cache-control") ?? "")?.[1]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("OCSP caching headers (RFC 5019 §6.2) and the GET form", () => {
  it("reads thisUpdate and nextUpdate from a real OpenSSL response", () => {
    expect(ocspResponseTimes(der(LONG_B64))).toEqual({ thisUpdate: new Date("2026-12-03T00:51:52Z"), nextUpdate: new Date("2126-11-09T00:51:52Z") });
    expect(ocspResponseTimes(der(NO_NEXT_B64))).toEqual({ thisUpdate: new Date("2026-12-03T00:51:52Z") });
    expect(ocspResponseTimes(new Uint8Array([0x30, 0x03, 0x0a, 0x01, 0x06]))).toBeUndefined();
    // Truncated or lying lengths are refused, never read past the end.
    const long = der(LONG_B64);
    for (const cut of [1, 10, 100, long.length - 1]) expect(ocspResponseTimes(long.subarray(0, cut))).toBeUndefined();
    const lying = long.slice();
    lying[1] = 0x84; // a 4-byte length that runs past the end
    expect(ocspResponseTimes(lying)).toBeUndefined();
  });

  it("GET (URL-encoded base64) and POST serve the same pre-signed bytes with max-age, ETag, Last-Modified and Expires", async () => {
    await publish([certRec({ serial_number: FIXTURE_SERIAL, ocsp_b64: LONG_B64 })]);
    for (const r of [await get(), await post()]) {
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toBe("application/ocsp-response");
      expect(new Uint8Array(await r.arrayBuffer())).toEqual(der(LONG_B64));
      expect(r.headers.get("cache-control")).toBe("public, max-age=2, no-transform, must-revalidate");
      expect(r.headers.get("last-modified")).toBe(LONG_THIS_UPDATE);
      expect(r.headers.get("etag")).toMatch(/^"[0-9a-f]{16}-[0-9a-f]+"$/);
      const expires = Date.parse(r.headers.get("expires") ?? "");
      expect(Math.abs(expires - (Date.now() + 2000))).toBeLessThan(5000);
    }
    // A raw (not percent-encoded) base64 path with '/' and '+' is the same request.
    const raw = await exports.default.fetch(`http://edge/v1/ocsp/${REQUEST_B64}`);
    expect(new Uint8Array(await raw.arrayBuffer())).toEqual(der(LONG_B64));
  });

  it("a conditional GET with the ETag gets 304 and no body; another ETag gets the response", async () => {
    await publish([certRec({ serial_number: FIXTURE_SERIAL, ocsp_b64: LONG_B64 })]);
    const etag = (await get()).headers.get("etag")!;
    const same = await get({ "if-none-match": `"other", ${etag}` });
    expect(same.status).toBe(304);
    expect(same.headers.get("etag")).toBe(etag);
    expect(await same.text()).toBe("");
    expect((await get({ "if-none-match": '"nope"' })).status).toBe(200);
  });

  it("If-None-Match compares weakly and takes `*` (RFC 9110 §13.1.2), as the CRL does", async () => {
    await publish([certRec({ serial_number: FIXTURE_SERIAL, ocsp_b64: LONG_B64 })]);
    const etag = (await get()).headers.get("etag")!;
    // A cache that compressed the body forwards the tag as weak; the response is still the same.
    for (const inm of [`W/${etag}`, `"other",${etag}`, "*"]) expect((await get({ "if-none-match": inm })).status, inm).toBe(304);
  });

  it("a delivery drops the isolate's prepared response for that serial, as it drops its verify entry", async () => {
    await publish([certRec({ serial_number: FIXTURE_SERIAL, ocsp_b64: LONG_B64 })]);
    expect(new Uint8Array(await (await get()).arrayBuffer())).toEqual(der(LONG_B64)); // now cached here
    await publish([certRec({ serial_number: FIXTURE_SERIAL, v: nextV(), ocsp_b64: SHORT_B64 })]);
    // No sleep past the cache bound: the origin's revoke answers once this delivery is acknowledged.
    expect(new Uint8Array(await (await get()).arrayBuffer())).toEqual(der(SHORT_B64));
  });

  it("max-age never reaches past nextUpdate (0 once it passed); revoked answers may be cached for 300 s", async () => {
    await publish([certRec({ serial_number: FIXTURE_SERIAL, ocsp_b64: SHORT_B64 })]);
    const stale = await get();
    expect(maxAge(stale)).toBe(0);
    await sleep(250); // past the in-isolate cache bound
    await publish([
      certRec({
        serial_number: FIXTURE_SERIAL,
        v: nextV(),
        status: "revoked",
        revoked_at: new Date().toISOString(),
        revocation_reason: "test",
        ocsp_b64: LONG_B64,
      }),
    ]);
    await sleep(250);
    expect(maxAge(await get())).toBe(300);
    await sleep(250);
    await publish([certRec({ serial_number: FIXTURE_SERIAL, v: nextV(), ocsp_b64: NO_NEXT_B64 })]);
    await sleep(250);
    const noNext = await get();
    expect(maxAge(noNext)).toBe(2);
    expect(noNext.headers.get("last-modified")).toBe(LONG_THIS_UPDATE);
  });

  it("a renewed predecessor's 'good' response is not served once its overlap ended: tryLater until the origin re-signs it revoked/superseded", async () => {
    // The origin signs a predecessor "good" until superseded_at (its nextUpdate) and re-signs it
    // revoked/superseded(4) when its supersede job runs (every 30 s), or later if the origin is down.
    // Served in between, the expired "good" was read as good by Java's PKIXRevocationChecker
    // (which accepts a nextUpdate up to 15 minutes past, jdk.security.certpath.ocspClockSkew),
    // while /v1/verify already said superseded. tryLater is unsigned and fails closed everywhere.
    const ended = "2026-12-03T00:52:55Z"; // SHORT_B64's nextUpdate
    await publish([certRec({ serial_number: FIXTURE_SERIAL, ocsp_b64: SHORT_B64, superseded_at: ended, superseded_by: "5".repeat(32) })]);
    for (const r of [await get(), await post()]) {
      expect(new Uint8Array(await r.arrayBuffer())).toEqual(OCSP_TRY_LATER);
      expect(r.headers.get("cache-control")).toBe("no-store");
    }
    // The same for a "good" whose nextUpdate is still ahead (an origin before nextUpdate was capped
    // at superseded_at signed 4 days): the record says superseded, so "good" is not served.
    await sleep(250);
    await publish([certRec({ serial_number: FIXTURE_SERIAL, v: nextV(), ocsp_b64: LONG_B64, superseded_at: new Date(Date.now() - 1000).toISOString() })]);
    await sleep(250);
    expect(new Uint8Array(await (await post()).arrayBuffer())).toEqual(OCSP_TRY_LATER);
    // Inside the overlap the signed "good" is served as before.
    await sleep(250);
    await publish([certRec({ serial_number: FIXTURE_SERIAL, v: nextV(), ocsp_b64: LONG_B64, superseded_at: new Date(Date.now() + 60_000).toISOString() })]);
    await sleep(250);
    expect(new Uint8Array(await (await post()).arrayBuffer())).toEqual(der(LONG_B64));
  });

  it("a re-signed response (revocation) is served within the cache bound", async () => {
    await publish([certRec({ serial_number: FIXTURE_SERIAL, ocsp_b64: NO_NEXT_B64 })]);
    expect(new Uint8Array(await (await get()).arrayBuffer())).toEqual(der(NO_NEXT_B64));
    await publish([certRec({ serial_number: FIXTURE_SERIAL, v: nextV(), ocsp_b64: LONG_B64 })]);
    const written = performance.now();
    // The bound is on staleness, not on how fast a loaded machine answers: every request sent more
    // than DEFAULT_TTL_MS (+ timer slop) after the write must get the new response.
    let seenAt: number | undefined;
    let staleAfterBound: number | undefined;
    while (seenAt === undefined && performance.now() - written < 5000) {
      const asked = performance.now();
      const r = await get();
      const fresh = r.headers.get("cache-control")?.includes("max-age=2") && (await r.arrayBuffer()).byteLength === der(LONG_B64).length;
      if (fresh) seenAt = asked - written;
      else if (asked - written > DEFAULT_TTL_MS + 20) staleAfterBound = asked - written;
      await sleep(10);
    }
    expect(seenAt).toBeDefined();
    expect(staleAfterBound).toBeUndefined();
  });
});
