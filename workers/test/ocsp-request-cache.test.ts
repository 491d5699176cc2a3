import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { OCSP_MALFORMED_REQUEST } from "@kakunin/shared";
import { requestCacheFootprint } from "../src/ocsp/prepared.ts";
import { REQUEST_B64 } from "./ocsp-fixtures.ts";

afterEach(async () => {
  await reset();
});

const der = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
const post = async (body: Uint8Array) =>
  new Uint8Array(
    await (await exports.default.fetch("http://edge/v1/ocsp", { method: "POST", headers: { "content-type": "application/ocsp-request" }, body })).arrayBuffer(),
  );

describe("the OCSP responder's parsed-request cache", () => {
  it("keeps no more than a small request's bytes per entry: 8 KiB requests from anyone cannot fill the isolate", async () => {
    const before = requestCacheFootprint();
    // Anyone may POST up to 8 KiB; each distinct body was kept as a key for an hour, and 10,000 of
    // them (the entry cap) held 80 MB of the isolate's 128 MB.
    const sent = 40;
    for (let i = 0; i < sent; i++) {
      const body = crypto.getRandomValues(new Uint8Array(8 * 1024));
      expect(await post(body)).toEqual(OCSP_MALFORMED_REQUEST);
    }
    const after = requestCacheFootprint();
    // A real client's request is 80–160 bytes; nothing near 8 KiB per request may stay behind.
    expect(after.keyBytes - before.keyBytes).toBeLessThanOrEqual(sent * 512);
  });

  it("still caches an ordinary request, and answers a large one as before", async () => {
    const before = requestCacheFootprint();
    await post(der(REQUEST_B64));
    expect(requestCacheFootprint().entries).toBe(before.entries + 1);
    const big = crypto.getRandomValues(new Uint8Array(4096));
    expect(await post(big)).toEqual(OCSP_MALFORMED_REQUEST);
    expect(await post(big)).toEqual(OCSP_MALFORMED_REQUEST);
  });
});
