import { reset } from "cloudflare:test";
import { afterEach, describe, expect, it } from "vitest";
import { cacheTtlMs, DEFAULT_TTL_MS, StatusCache } from "../src/verify/status-cache.ts";
import { certRec, env, nextV, publish, verify } from "./fixtures.ts";

afterEach(async () => {
  await reset();
});

const status = async (serial: string, q = ""): Promise<string | number> => {
  const r = await verify(serial, q);
  return r.status === 200 ? (await r.json<{ data: { status: string } }>()).data.status : r.status;
};

describe("in-isolate verify cache", () => {
  it("drops every entry after its TTL, evicts the oldest past the cap, and never caches with TTL 0", () => {
    const c = new StatusCache(2);
    c.set("a", { cert: "A", risk: null }, 1000, 200);
    expect(c.get("a", 1199)).toEqual(expect.objectContaining({ cert: "A" }));
    expect(c.get("a", 1200)).toBeUndefined();
    c.set("a", { cert: "A", risk: null }, 0, 200);
    c.set("b", { cert: "B", risk: null }, 0, 200);
    c.set("c", { cert: null, risk: null }, 0, 200);
    expect(c.get("a", 1)).toBeUndefined();
    expect(c.get("c", 1)).toEqual(expect.objectContaining({ cert: null }));
    c.set("d", { cert: "D", risk: null }, 0, 0);
    expect(c.get("d", 0)).toBeUndefined();
  });

  it("the TTL is 200 ms by default, configurable, and never above the 1 s revocation goal", () => {
    expect(DEFAULT_TTL_MS).toBe(200);
    expect(cacheTtlMs(undefined)).toBe(200);
    expect(cacheTtlMs("0")).toBe(0);
    expect(cacheTtlMs("50")).toBe(50);
    expect(cacheTtlMs("60000")).toBe(1000);
    expect(cacheTtlMs("soon")).toBe(200);
  });

  it("a revocation that reached KV is visible to eventual reads within the bound; strong reads see it at once", async () => {
    const rec = certRec();
    await publish([rec]);
    expect(await status(rec.serial_number)).toBe("active"); // now cached in this isolate
    const res = await publish([{ ...rec, v: nextV(), status: "revoked", revoked_at: new Date().toISOString(), revocation_reason: "cache bound test" }]);
    expect(res.status).toBe(200);
    const written = performance.now(); // the ledger answers after the KV write
    expect(await status(rec.serial_number, "?consistency=strong")).toBe("revoked");
    let seenAt: number | undefined;
    while (performance.now() - written < 2000) {
      const asked = performance.now();
      if ((await status(rec.serial_number)) === "revoked") {
        seenAt = asked - written;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    console.log(`revocation visible to eventual verify reads ${seenAt?.toFixed(0)} ms after the KV write (cache TTL ${DEFAULT_TTL_MS} ms)`);
    expect(seenAt).toBeDefined();
    // The request that first saw it was sent no later than one TTL (plus a poll and scheduling slack) after the write.
    expect(seenAt!).toBeLessThanOrEqual(DEFAULT_TTL_MS + 150);
  });

  it("repeat reads inside the TTL are served from the isolate (KV is not read again)", async () => {
    const rec = certRec();
    await publish([rec]);
    // Several tries: on a loaded machine the second read can land after the TTL.
    let servedFromCache = false;
    for (let i = 0; i < 5 && !servedFromCache; i++) {
      const r = certRec();
      await publish([r]);
      const t0 = performance.now();
      expect(await status(r.serial_number)).toBe("active");
      await env.CERT_STATUS.delete(`cert:${r.serial_number}`);
      const again = await status(r.serial_number);
      if (performance.now() - t0 < DEFAULT_TTL_MS) servedFromCache = again === "active";
      // After the TTL the deletion shows: 404.
      await new Promise((res) => setTimeout(res, DEFAULT_TTL_MS + 20));
      expect(await status(r.serial_number)).toBe(404);
    }
    expect(servedFromCache).toBe(true);
  });
});
