import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestOrigin, type TestOrigin } from "./harness.ts";

interface Problem {
  type: string;
  detail: string;
}

/**
 * The origin reads JSON bodies as UTF-8 text, uncompressed, on every route (one middleware). A
 * gzip-compressed body was answered 400 "not valid JSON", a plain body labelled `content-encoding:
 * br` was taken as if unlabelled, and a UTF-16 body with `charset=utf-16le` was 400 too. Each is a
 * representation the API does not take: 415 (RFC 9110 §15.5.16), with `Accept-Encoding: identity`
 * (§12.5.3). Checked on POST /v1/api-keys; the middleware serves every JSON route alike.
 */
describe("POST /v1/api-keys with a content coding or charset the API does not take", () => {
  let o: TestOrigin;
  beforeAll(async () => {
    o = await startTestOrigin("pglite");
  });
  afterAll(async () => {
    await o.close();
  });

  const body = JSON.stringify({ name: "coding", role: "auditor" });
  const post = (payload: string | Uint8Array<ArrayBuffer>, headers: Record<string, string>) => o.request("POST", "/v1/api-keys", { headers, rawBody: payload });

  it("gzip-compressed body: 415 naming the coding, Accept-Encoding: identity", async () => {
    const res = await post(new Uint8Array(gzipSync(body)), { "content-type": "application/json", "content-encoding": "gzip" });
    expect(res.status).toBe(415);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.headers.get("accept-encoding")).toBe("identity");
    const p = (await res.json()) as Problem;
    expect(p.type).toBe("urn:kakunin:problem:unsupported-media-type");
    expect(p.detail).toMatch(/gzip/);
  });

  it("a coding label on a plain body is not ignored: 415", async () => {
    expect((await post(body, { "content-type": "application/json", "content-encoding": "br" })).status).toBe(415);
  });

  it("a charset other than UTF-8: 415 naming it", async () => {
    const res = await post(body, { "content-type": "application/json; charset=utf-16le" });
    expect(res.status).toBe(415);
    expect(((await res.json()) as Problem).detail).toMatch(/utf-16le/i);
  });

  it("identity, charset=utf-8 (any case, quoted, or its utf8 / us-ascii aliases, whose bytes read the same) and no charset are accepted", async () => {
    const accepted: Record<string, string>[] = [
      { "content-type": "application/json", "content-encoding": "identity" },
      { "content-type": 'application/json; charset="UTF-8"' },
      { "content-type": "application/json;charset=utf-8" },
      { "content-type": "application/json; charset=utf8" },
      { "content-type": "application/json; charset=US-ASCII" },
      { "content-type": "application/json" },
    ];
    for (const headers of accepted) {
      expect((await post(body, headers)).status, JSON.stringify(headers)).toBe(201);
    }
  });
});
