import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { CrlRecord } from "@kakunin/shared";
import { nextV, publish } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

const ISSUER = "0a1b2c";
const pem = (der: string) => `-----BEGIN CERTIFICATE-----\n${btoa(der)}\n-----END CERTIFICATE-----\n`;
const record = (issuing: string, root: string, overrides: Partial<CrlRecord> = {}): CrlRecord => ({
  kind: "crl",
  v: nextV(),
  tenant_id: "default",
  crl_b64: btoa("CRL"),
  this_update: "2026-03-01T10:20:30.456Z",
  next_update: "2026-03-02T10:20:30.456Z",
  chain_pem: pem(issuing) + pem(root),
  ...overrides,
});
const get = (path: string, headers: Record<string, string> = {}, method = "GET") => exports.default.fetch(`http://edge${path}`, { method, headers });

/**
 * The CA chain and the CA certificates (AIA caIssuers) are fetched by every relying party that
 * builds a path, and cached an hour: revalidation answers 304 while they are unchanged, as the CRL
 * does (crl-conditional.test.ts). They had max-age but no ETag, so each revalidation was a full body.
 * If-None-Match only (conditional.ts says why not If-Modified-Since).
 */
describe("CA chain and CA certificate conditional requests", () => {
  for (const path of ["/v1/ca", "/v1/ca/default", `/v1/ca/default/${ISSUER}`, "/v1/ca/default/root"]) {
    it(`${path}: a strong ETag; the same ETag gets 304 with no body; another one, or a new CA, gets the body`, async () => {
      await publish([record("ISSUING-ONE", "ROOT-ONE"), record("ISSUING-ONE", "ROOT-ONE", { issuer_serial: ISSUER })]);
      const full = await get(path);
      expect(full.status).toBe(200);
      const body = await full.arrayBuffer();
      const etag = full.headers.get("etag")!;
      expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
      for (const inm of [etag, `"other", ${etag}`, `W/${etag}`, "*"]) {
        const same = await get(path, { "if-none-match": inm });
        expect(same.status, inm).toBe(304);
        expect(same.headers.get("etag")).toBe(etag);
        expect(same.headers.get("cache-control")).toBe("public, max-age=3600");
        expect(await same.text()).toBe("");
      }
      expect((await get(path, { "if-none-match": etag }, "HEAD")).status).toBe(304);
      expect((await get(path, { "if-none-match": '"nope"' })).status).toBe(200);
      // If-Modified-Since alone never gives a 304.
      expect((await get(path, { "if-modified-since": new Date(Date.now() + 86_400_000).toUTCString() })).status).toBe(200);

      // A rollover: new certificates, a new tag; the old tag gets them.
      await publish([record("ISSUING-TWO", "ROOT-TWO"), record("ISSUING-TWO", "ROOT-TWO", { issuer_serial: ISSUER })]);
      const next = await get(path, { "if-none-match": etag });
      expect(next.status).toBe(200);
      expect(next.headers.get("etag")).not.toBe(etag);
      expect(new Uint8Array(await next.arrayBuffer())).not.toEqual(new Uint8Array(body));
    });
  }
});
