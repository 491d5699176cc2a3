import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createVerifier } from "../src/index.ts";
import { type HungServer, startHungServer } from "./hung-server.ts";

// The verifier races its deadline, so a caller gets `edge_unavailable` on time whatever fetch does;
// what the deadline's abort must also do is close the request, or every verify against a hung edge
// (a blackholed network, an overloaded proxy) leaves a socket open until undici's own 300 s headers
// timeout. fetch(request) copies the Request, and the copy follows the caller's signal only through
// a weak reference: once the garbage collector ran, the abort reached nothing (found for the S3
// archive's timeout, origin/src/archive/s3.ts; the SDK's default fetch had the same pattern).
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let hung: HungServer;
beforeAll(async () => {
  hung = await startHungServer();
});
afterAll(() => hung.close());

it("a verify that timed out against a hung edge closes its connection, also when the garbage collector ran meanwhile", async () => {
  const verifier = createVerifier({ edgeUrl: hung.url, timeoutMs: 300, cacheTtlMs: 0, unknownCacheTtlMs: 0 });
  const collector = setInterval(gc, 50);
  try {
    for (let i = 0; i < 3; i++) {
      const r = await verifier.verify(`0${i}a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8`.slice(0, 40));
      expect(r.valid, `verify ${i}`).toBe(false);
    }
    // Each timed-out request's abort must reach its socket: the hung server sees all three close.
    const t0 = Date.now();
    while (hung.closed() < 3 && Date.now() - t0 < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hung.closed()).toBe(3);
  } finally {
    clearInterval(collector);
  }
}, 60_000);
