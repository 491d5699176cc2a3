import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { originSigner, SigningError } from "../src/index.ts";

// originSigner had no deadline: against a hung origin (a blackholed network, a wedged proxy) every
// sign() and its socket waited forever, and so did the agent request being signed.
const open = new Set<Socket>();
let closed = 0;
let hung: Server;
let originUrl = "";
beforeAll(async () => {
  // Accepts connections, reads the requests and never answers.
  hung = createServer((s) => {
    open.add(s);
    s.resume();
    s.on("close", () => {
      open.delete(s);
      closed++;
    });
  });
  await new Promise<void>((resolve) => hung.listen(0, "127.0.0.1", resolve));
  const a = hung.address();
  originUrl = `http://127.0.0.1:${a && typeof a === "object" ? a.port : 0}`;
});
afterAll(async () => {
  for (const s of open) s.destroy();
  await new Promise((resolve) => hung.close(resolve));
});

const data = new TextEncoder().encode("signature base");

it("sign() against a hung origin fails with a SigningError at timeoutMs and closes its connection", async () => {
  const signer = originSigner({ originUrl, credential: "kka_test", agentId: "a1", timeoutMs: 300 });
  const t0 = Date.now();
  const err = await signer.sign(data, { serial: "01" }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SigningError);
  expect((err as Error).message).toMatch(/did not answer within 300 ms/);
  expect(Date.now() - t0).toBeLessThan(10_000);
  const t1 = Date.now();
  while ((closed < 1 || open.size > 0) && Date.now() - t1 < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(closed).toBeGreaterThanOrEqual(1);
  expect(open.size).toBe(0);
});

it("a caller's fetch that ignores the signal still cannot hold sign() past timeoutMs", async () => {
  const signer = originSigner({ originUrl, credential: "kka_test", agentId: "a1", timeoutMs: 200, fetch: () => new Promise<Response>(() => {}) });
  await expect(signer.sign(data, { serial: "01" })).rejects.toThrow(/did not answer within 200 ms/);
});

it("timeoutMs is validated like the verifier's options", () => {
  expect(() => originSigner({ originUrl, credential: "kka_test", agentId: "a1", timeoutMs: 0 })).toThrow(/timeoutMs/);
});
