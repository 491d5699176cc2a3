import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createS3Archive } from "@kakunin/origin/archive/index";
import { afterAll, beforeAll, expect, it } from "vitest";

// The S3 store's per-request timeout is what turns a hung RGW (a full OSD, a blackholed network)
// into `unavailable` and lets the archiver report it and back off. aws4fetch's own fetch() wraps
// the request in a `Request` whose abort signal only weakly follows the caller's: once the garbage
// collector ran during a request, the timeout fired into nothing and the request hung until
// undici's own 300 s headers timeout. In a real origin the first request after start timed out
// at 10 s and later ones took five minutes each, so an archive pass over a hung store ran for
// hours without a log line or a failed pass (test/faults/s3-hung.test.ts).
setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const sockets = new Set<Socket>();
let silent: Server;
let port = 0;
beforeAll(async () => {
  // Accepts connections, reads the requests and never answers.
  silent = createServer((s) => {
    sockets.add(s);
    s.resume();
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const a = silent.address();
  port = a && typeof a === "object" ? a.port : 0;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

it("a hung server: every request ends at timeoutMs, also when the garbage collector runs meanwhile", async () => {
  const store = createS3Archive({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    bucket: "kakunin-timeout",
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "secret",
    timeoutMs: 500,
  });
  const body = new TextEncoder().encode("{}\n");
  const sha256Hex = createHash("sha256").update(body).digest("hex");
  const collector = setInterval(gc, 50);
  try {
    for (let i = 0; i < 3; i++) {
      const t0 = Date.now();
      const hung = new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), 10_000).unref());
      const r = await Promise.race([store.put(`audit/t/${i}.jsonl`, body, { retainUntil: new Date(Date.now() + 3_600_000), sha256Hex }), hung]);
      expect(r, `request ${i}`).toMatchObject({ ok: false, error: { code: "unavailable", message: expect.stringContaining("500 ms") } });
      expect(Date.now() - t0).toBeLessThan(10_000);
    }
  } finally {
    clearInterval(collector);
  }
}, 60_000);
