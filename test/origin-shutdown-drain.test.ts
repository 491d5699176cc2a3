import { afterAll, describe, expect, it } from "vitest";
import { freePort, startOrigin, systemFixture, type Proc } from "./support/system.ts";

/**
 * A load balancer takes an origin out of rotation when its /readyz fails. On SIGTERM the origin
 * closed its listener at once and /readyz kept answering 200 on the connections still open: the
 * balancer never saw it go not-ready, and the requests it kept sending in the seconds before its
 * health checks noticed met a closed port (a 502 to the client). Now the origin turns not ready
 * the moment it is told to stop, keeps serving for KAKUNIN_SHUTDOWN_DRAIN_MS with every answer
 * closing its connection, and only then closes.
 */
describe("origin shutdown drain", () => {
  const fx = systemFixture();
  let origin: Proc | undefined;
  afterAll(async () => {
    await origin?.stop("SIGKILL");
    fx.cleanup();
  });

  it("answers /readyz 503 at once on SIGTERM, keeps serving through the drain, then stops cleanly", async () => {
    const deadPort = await freePort();
    origin = await startOrigin({
      dataDir: fx.dir,
      edgeUrl: `http://127.0.0.1:${deadPort}`,
      secret: fx.secret,
      adminKey: fx.adminKey,
      env: { KAKUNIN_PUBLISH: "off", KAKUNIN_SHUTDOWN_DRAIN_MS: "4000" },
    });
    const before = await fetch(`${origin.url}/readyz`);
    expect(before.status).toBe(200);
    await before.arrayBuffer();

    const stopped = origin.stop("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    const ready = await fetch(`${origin.url}/readyz`);
    const body = (await ready.json()) as { type: string; detail: string };
    expect(ready.status).toBe(503);
    expect(ready.headers.get("content-type")).toContain("application/problem+json");
    expect(body.type).toBe("urn:kakunin:problem:not-ready");
    expect(body.detail).toContain("shutting down");
    // Still serving during the drain, and telling clients to take their next request elsewhere.
    const agents = await fetch(`${origin.url}/v1/agents`, { headers: { authorization: `Bearer ${fx.adminKey}` } });
    await agents.arrayBuffer();
    expect(agents.status).toBe(200);
    expect(agents.headers.get("connection")).toBe("close");

    await stopped;
    expect(origin.log()).toMatch(/"event":"draining"/);
    expect(origin.log()).toMatch(/"event":"stopped"/);
  }, 120_000);
});
