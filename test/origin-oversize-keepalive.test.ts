import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startOrigin, systemFixture, type Proc } from "./support/system.ts";

/**
 * A body over the limit is answered 413 before it is read. The origin then drops the rest of the
 * body, and with it the connection, but the 413 said `Connection: keep-alive`: a pooling client
 * (undici, Node's fetch) sent its next request down the dead socket and got a network error
 * instead of an answer (half of the requests after an oversized one, found 2026-12-07). The 413
 * now says `Connection: close`, as nginx does, so clients open a new connection.
 */
describe("an oversized request body on a kept-alive connection", () => {
  const fx = systemFixture();
  let origin: Proc | undefined;
  beforeAll(async () => {
    const deadPort = await freePort();
    origin = await startOrigin({ dataDir: fx.dir, edgeUrl: `http://127.0.0.1:${deadPort}`, secret: fx.secret, adminKey: fx.adminKey });
  }, 120_000);
  afterAll(async () => {
    await origin?.stop();
    fx.cleanup();
  });

  it("is a 413 problem that closes the connection, and the client's next requests are answered", async () => {
    const big = JSON.stringify({ name: "x".repeat(2 * 1024 * 1024) });
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const oversized = i % 2 === 0;
      try {
        const r = await fetch(`${origin!.url}/v1/agents`, {
          method: "POST",
          headers: { authorization: `Bearer ${fx.adminKey}`, "content-type": "application/json" },
          body: oversized ? big : "{}",
        });
        await r.arrayBuffer();
        const how = oversized ? ` ${r.headers.get("content-type")?.split(";")[0]} connection: ${r.headers.get("connection")}` : "";
        outcomes.push(`${r.status}${how}`);
      } catch (e) {
        outcomes.push(`network error: ${(e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).message}`);
      }
    }
    expect(outcomes).toEqual(Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? "413 application/problem+json connection: close" : "422")));
  }, 60_000);
});
