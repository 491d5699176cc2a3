import { afterAll, beforeAll, expect, it } from "vitest";
import { originSigner, SigningError } from "../src/index.ts";
import { type HungServer, startHungServer } from "./hung-server.ts";

// originSigner had no deadline: against a hung origin (a blackholed network, a wedged proxy) every
// sign() and its socket waited forever, and so did the agent request being signed.
let hung: HungServer;
beforeAll(async () => {
  hung = await startHungServer();
});
afterAll(() => hung.close());

const data = new TextEncoder().encode("signature base");

it("sign() against a hung origin fails with a SigningError at timeoutMs and closes its connection", async () => {
  const signer = originSigner({ originUrl: hung.url, credential: "kka_test", agentId: "a1", timeoutMs: 300 });
  const t0 = Date.now();
  const err = await signer.sign(data, { serial: "01" }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SigningError);
  expect((err as Error).message).toMatch(/did not answer within 300 ms/);
  expect(Date.now() - t0).toBeLessThan(10_000);
  const t1 = Date.now();
  while ((hung.closed() < 1 || hung.open() > 0) && Date.now() - t1 < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(hung.closed()).toBeGreaterThanOrEqual(1);
  expect(hung.open()).toBe(0);
});

it("a caller's fetch that ignores the signal still cannot hold sign() past timeoutMs", async () => {
  const signer = originSigner({ originUrl: hung.url, credential: "kka_test", agentId: "a1", timeoutMs: 200, fetch: () => new Promise<Response>(() => {}) });
  await expect(signer.sign(data, { serial: "01" })).rejects.toThrow(/did not answer within 200 ms/);
});

it("timeoutMs is validated like the verifier's options", () => {
  expect(() => originSigner({ originUrl: hung.url, credential: "kka_test", agentId: "a1", timeoutMs: 0 })).toThrow(/timeoutMs/);
});
