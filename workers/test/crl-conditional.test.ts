import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { CrlRecord } from "@kakunin/shared";
import { nextV, publish } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

/**
 * A CRL distribution point is polled by relying parties and sits behind HTTP caches: it answers
 * conditional requests (RFC 9110 §13) with 304 and no body while the CRL is unchanged. The edge
 * ignored If-None-Match and had no ETag, so every poll fetched the whole CRL. Only If-None-Match:
 * Last-Modified has whole seconds, and a CRL re-signed for a revocation within the same second
 * would hide behind a date (as OCSP, v1_ocsp.ts).
 */
describe("CRL conditional requests", () => {
  const THIS_UPDATE = "2026-03-01T10:20:30.456Z";
  const crl = (der: string, overrides: Partial<CrlRecord> = {}): CrlRecord => ({
    kind: "crl",
    v: nextV(),
    tenant_id: "default",
    crl_b64: btoa(der),
    this_update: THIS_UPDATE,
    next_update: "2026-03-02T10:20:30.456Z",
    chain_pem: "PEMCHAIN",
    ...overrides,
  });
  const get = (path: string, headers: Record<string, string> = {}, method = "GET") => exports.default.fetch(`http://edge${path}`, { method, headers });

  it("a 200 carries a strong ETag and Last-Modified (thisUpdate); the same ETag gets 304, no body", async () => {
    await publish([crl("CRL-ONE")]);
    const full = await get("/v1/crl");
    expect(full.status).toBe(200);
    const etag = full.headers.get("etag")!;
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(full.headers.get("last-modified")).toBe(new Date(THIS_UPDATE).toUTCString());
    expect(await full.text()).toBe("CRL-ONE");

    for (const inm of [etag, `"other", ${etag}`, `W/${etag}`, "*"]) {
      const same = await get("/v1/crl", { "if-none-match": inm });
      expect(same.status, inm).toBe(304);
      expect(same.headers.get("etag")).toBe(etag);
      expect(same.headers.get("cache-control")).toBe("public, max-age=60");
      expect(await same.text()).toBe("");
    }
    expect((await get("/v1/crl", { "if-none-match": etag }, "HEAD")).status).toBe(304);
    const other = await get("/v1/crl", { "if-none-match": '"nope"' });
    expect([other.status, await other.text()]).toEqual([200, "CRL-ONE"]);
  });

  it("a new CRL has a new ETag: the old one gets the new CRL", async () => {
    await publish([crl("CRL-ONE")]);
    const old = (await get("/v1/crl")).headers.get("etag")!;
    await publish([crl("CRL-TWO")]);
    const res = await get("/v1/crl", { "if-none-match": old });
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).not.toBe(old);
    expect(await res.text()).toBe("CRL-TWO");
  });

  it("If-Modified-Since never hides a CRL re-signed within the same second (a revocation): only the ETag revalidates", async () => {
    await publish([crl("CRL-ONE")]);
    const first = await get("/v1/crl");
    const lastModified = first.headers.get("last-modified")!;
    // A revocation 300 ms later: the new CRL's thisUpdate has the same whole-second Last-Modified.
    await publish([crl("CRL-TWO", { this_update: new Date(Date.parse(THIS_UPDATE) + 300).toISOString() })]);
    const byDate = await get("/v1/crl", { "if-modified-since": lastModified });
    expect([byDate.status, await byDate.text()]).toEqual([200, "CRL-TWO"]);
    expect((await get("/v1/crl", { "if-modified-since": new Date(Date.parse(THIS_UPDATE) + 3600_000).toUTCString() })).status).toBe(200);
    const byTag = await get("/v1/crl", { "if-none-match": first.headers.get("etag")! });
    expect([byTag.status, await byTag.text()]).toEqual([200, "CRL-TWO"]);
  });

  it("If-None-Match takes precedence over If-Modified-Since", async () => {
    await publish([crl("CRL-ONE")]);
    const lastModified = new Date(THIS_UPDATE).toUTCString();
    const res = await get("/v1/crl", { "if-none-match": '"nope"', "if-modified-since": lastModified });
    expect([res.status, await res.text()]).toEqual([200, "CRL-ONE"]);
  });

  it("every CRL path answers conditionally (tenant, issuer, partition)", async () => {
    const tenant = crypto.randomUUID();
    const issuer = "c3".repeat(16);
    await publish([
      crl("T", { tenant_id: tenant }),
      crl("I", { tenant_id: tenant, issuer_serial: issuer }),
      crl("P", { tenant_id: tenant, issuer_serial: issuer, partition: 3 }),
    ]);
    for (const path of [`/v1/crl/${tenant}`, `/v1/crl/${tenant}/${issuer}`, `/v1/crl/${tenant}/${issuer}/3`]) {
      const etag = (await get(path)).headers.get("etag");
      expect(etag, path).toMatch(/^"[^"]+"$/);
      expect((await get(path, { "if-none-match": etag! })).status, path).toBe(304);
    }
  });
});
