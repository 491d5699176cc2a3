import { describe, expect, it } from "vitest";
import { limitedResolver, MAX_SYSTEM_LOOKUPS, resolvePublic } from "../src/webhooks/address-guard.ts";

/**
 * Webhook hosts are resolved with getaddrinfo on libuv's thread pool, which WebCrypto key
 * generation and file I/O share. A host whose DNS never answers holds a pool thread however short
 * the delivery's deadline; with 20 deliveries in flight to such hosts the whole pool was taken and
 * every tenant's certify stalled. The resolver now runs at most MAX_SYSTEM_LOOKUPS at once.
 */
describe("webhook DNS lookups", () => {
  /** A lookup that hangs until released, counting how many run at once. */
  function hangingLookup() {
    let running = 0;
    let peak = 0;
    const pending: (() => void)[] = [];
    const lookup = (host: string) =>
      new Promise<{ address: string; family: number }[]>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        pending.push(() => {
          running--;
          resolve([{ address: host === "public.example" ? "93.184.216.34" : "10.0.0.1", family: 4 }]);
        });
      });
    return { lookup, peak: () => peak, release: () => pending.shift()?.(), started: () => pending.length };
  }

  it("leave most of the thread pool free: 20 hung lookups occupy MAX_SYSTEM_LOOKUPS threads, the rest wait and then fail", async () => {
    expect(MAX_SYSTEM_LOOKUPS).toBeLessThan(4);
    const dns = hangingLookup();
    const resolve = limitedResolver(dns.lookup, MAX_SYSTEM_LOOKUPS, 50);
    const all = Array.from({ length: 20 }, () => resolvePublic("hung.example", false, resolve));
    await new Promise((r) => setTimeout(r, 200));
    expect(dns.started()).toBe(MAX_SYSTEM_LOOKUPS);
    // The hung ones answer at last; the waiting ones gave up long before.
    for (let i = 0; i < MAX_SYSTEM_LOOKUPS; i++) dns.release();
    const errors = (await Promise.all(all)).map((o) => (o.ok ? "ok" : o.error.replace(/: .*/, "")));
    expect(dns.peak()).toBe(MAX_SYSTEM_LOOKUPS);
    expect(errors.filter((e) => e.startsWith("cannot resolve")).length).toBe(20 - MAX_SYSTEM_LOOKUPS);
    expect(errors.filter((e) => /non-public/.test(e)).length).toBe(MAX_SYSTEM_LOOKUPS);
  }, 10_000);

  it("a waiting lookup runs once a slot frees, and answers as before", async () => {
    const dns = hangingLookup();
    const resolve = limitedResolver(dns.lookup, 1, 5_000);
    const first = resolvePublic("public.example", false, resolve);
    const second = resolvePublic("private.example", false, resolve);
    await new Promise((r) => setTimeout(r, 10));
    expect(dns.started()).toBe(1);
    dns.release();
    expect(await first).toEqual({ ok: true, value: { address: "93.184.216.34", family: 4 } });
    await new Promise((r) => setTimeout(r, 10));
    dns.release();
    expect(await second).toMatchObject({ ok: false, error: expect.stringContaining("non-public") });
    expect(dns.peak()).toBe(1);
  });
});
