import { describe, expect, it } from "vitest";
import { RetryLoop, type PassResult } from "../src/retry-loop.ts";

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("RetryLoop", () => {
  it("runs again at once while there is more work, then idles", async () => {
    const outcomes: PassResult[] = [{ outcome: "more" }, { outcome: "more" }, { outcome: "idle" }];
    let passes = 0;
    const loop = new RetryLoop(async () => outcomes[passes++] ?? { outcome: "idle" }, { idleMs: 10_000, minBackoffMs: 10, maxBackoffMs: 100, name: "t", log: () => undefined });
    loop.start();
    await wait(100);
    expect(passes).toBe(3);
    await loop.stop();
  });

  it("backs off while failing, logs the first failure and the recovery, and never stops retrying", async () => {
    let passes = 0;
    const logs: string[] = [];
    const loop = new RetryLoop(async () => (++passes < 5 ? { outcome: "failed", error: "down" } : { outcome: "idle" }), {
      idleMs: 10_000, minBackoffMs: 5, maxBackoffMs: 40, name: "store", log: (m) => logs.push(m),
    });
    loop.start();
    for (let i = 0; i < 100 && passes < 5; i++) await wait(10);
    await wait(20);
    expect(passes).toBe(5);
    expect(logs[0]).toMatch(/^down \(attempt 1/);
    expect(logs.at(-1)).toBe("store reachable again after 4 failed attempt(s)");
    // A kick while backing off does not bypass the backoff; a kick when healthy runs at once.
    loop.kick();
    await wait(30);
    expect(passes).toBe(6);
    await loop.stop();
  });

  it("a throwing pass is treated as a failure, not a crash", async () => {
    let passes = 0;
    const logs: string[] = [];
    const loop = new RetryLoop(async () => {
      passes++;
      if (passes === 1) throw new Error("bug");
      return { outcome: "idle" };
    }, { idleMs: 10_000, minBackoffMs: 5, maxBackoffMs: 10, name: "t", log: (m) => logs.push(m) });
    loop.start();
    await wait(80);
    expect(passes).toBe(2);
    expect(logs[0]).toMatch(/unexpected error: Error: bug/);
    await loop.stop();
  });
});
