import { reset } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import type { CrlRecord } from "@kakunin/shared";
import { env, nextV, publish } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

const TENANT = "0b7c2a52-8a55-4a3c-9d0e-0c7c1e1f3a01";
const ISSUER = "5a1b2c3d4e5f60718293a4b5c6d7e8f9";
const crl = (over: Partial<CrlRecord>): CrlRecord => ({
  kind: "crl",
  v: nextV(),
  tenant_id: TENANT,
  issuer_serial: ISSUER,
  crl_b64: btoa("FULL"),
  this_update: new Date().toISOString(),
  next_update: new Date(Date.now() + 86_400_000).toISOString(),
  chain_pem: "PEM",
  ...over,
});
const body = async (path: string) => {
  const r = await exports.default.fetch(`http://edge${path}`);
  return { status: r.status, text: r.status === 200 ? new TextDecoder().decode(await r.arrayBuffer()) : "" };
};

describe("partitioned CRLs at the edge (publish wire v3)", () => {
  it("stores each partition under its own key and serves it at the partition URL; the issuer's CRL stays where it was", async () => {
    const full = crl({});
    const p0 = crl({ partition: 0, crl_b64: btoa("P0") });
    const p7 = crl({ partition: 7, crl_b64: btoa("P7") });
    const res = await publish([full, p0, p7], { body: JSON.stringify({ wire_version: 3, records: [full, p0, p7] }) });
    expect(res.status).toBe(200);
    expect(await body(`/v1/crl/${TENANT}/${ISSUER}`)).toEqual({ status: 200, text: "FULL" });
    expect(await body(`/v1/crl/${TENANT}/${ISSUER}/0`)).toEqual({ status: 200, text: "P0" });
    expect(await body(`/v1/crl/${TENANT}/${ISSUER}/7`)).toEqual({ status: 200, text: "P7" });
    expect((await body(`/v1/crl/${TENANT}/${ISSUER}/3`)).status).toBe(404);
    for (const bad of ["-1", "01", "x", "1e3", "9999999999"]) expect((await body(`/v1/crl/${TENANT}/${ISSUER}/${bad}`)).status).toBe(404);
    expect(await env.CERT_STATUS.get(`crl:${TENANT}:${ISSUER}:7`)).not.toBeNull();
  });

  it("publish versions: 1 (no field), 2 and 3 are accepted; a newer one is held with 426; a partition without its issuer is 422", async () => {
    const rec = crl({});
    for (const wire of [undefined, 2, 3]) {
      const r = { ...rec, v: nextV() };
      const res = await publish([r], { body: JSON.stringify({ ...(wire ? { wire_version: wire } : {}), records: [r] }) });
      expect(res.status, `wire_version ${wire}`).toBe(200);
    }
    const future = await publish([], { body: JSON.stringify({ wire_version: 4, records: [], shape: "unknown" }) });
    expect(future.status).toBe(426);
    expect(((await future.json()) as { type: string }).type).toContain("unsupported-wire-version");
    const { issuer_serial: _, ...orphan } = crl({ partition: 1 });
    expect((await publish([orphan as CrlRecord], { body: JSON.stringify({ wire_version: 3, records: [orphan] }) })).status).toBe(422);
  });
});
