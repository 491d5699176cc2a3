import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startOrigin, systemFixture, type Proc } from "./support/system.ts";

/** What a raw socket received before the server closed it, and whether it closed within `withinMs`. */
interface Outcome {
  closed: boolean;
  received: string;
}

/** Opens a socket, writes `first`, then `trickle` once a second until the server closes it or `withinMs` passes. */
function slowClient(port: number, first: string, trickle: string, withinMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const s: Socket = connect(port, "127.0.0.1");
    let received = "";
    let timer: ReturnType<typeof setInterval> | undefined;
    const done = (closed: boolean) => {
      clearInterval(timer);
      clearTimeout(deadline);
      s.destroy();
      resolve({ closed, received });
    };
    const deadline = setTimeout(() => done(false), withinMs);
    s.on("data", (d: Buffer) => void (received += d.toString("latin1")));
    s.on("error", () => {});
    s.on("close", () => done(true));
    s.on("connect", () => {
      s.write(first);
      timer = setInterval(() => s.writable && s.write(trickle), 1000);
    });
  });
}

/** A kept-alive socket that sent one complete request; resolves with what it was answered (empty when the server closed it unanswered). */
function keptAlive(port: number): Promise<{ socket: Socket; answer: string }> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    let answer = "";
    const settle = () => resolve({ socket: s, answer });
    s.on("error", () => {});
    s.on("data", (d: Buffer) => {
      answer += d.toString("latin1");
      if (answer.includes("\r\n\r\n") && /"status":"ok"|ok/.test(answer)) settle();
    });
    s.on("close", settle);
    s.on("connect", () => s.write("GET /healthz HTTP/1.1\r\nHost: origin\r\n\r\n"));
    setTimeout(settle, 10_000);
  });
}

/**
 * A client that sends its request slowly held an origin socket until Node's defaults let go:
 * headers trickled a line a second were cut after 60–90 s, a body trickled a byte a second after
 * 300–330 s (requestTimeout, checked every 30 s), and there was no bound on connections at all,
 * so a few hundred such clients used up the file descriptors the database and KMS need. The
 * origin now applies its own limits (KAKUNIN_HTTP_*): short here so the test is quick; what is
 * checked is that the configured bound, not Node's 300 s, is what closes the socket.
 */
describe("slow clients against a real origin", () => {
  const fx = systemFixture();
  let origin: Proc | undefined;
  beforeAll(async () => {
    const deadPort = await freePort();
    origin = await startOrigin({
      dataDir: fx.dir,
      edgeUrl: `http://127.0.0.1:${deadPort}`,
      secret: fx.secret,
      adminKey: fx.adminKey,
      env: {
        KAKUNIN_PUBLISH: "off",
        KAKUNIN_HTTP_HEADERS_TIMEOUT_MS: "2000",
        KAKUNIN_HTTP_REQUEST_TIMEOUT_MS: "4000",
        KAKUNIN_HTTP_KEEP_ALIVE_TIMEOUT_MS: "60000",
        KAKUNIN_HTTP_MAX_CONNECTIONS: "6",
      },
    });
  }, 120_000);
  afterAll(async () => {
    await origin?.stop();
    fx.cleanup();
  });

  it("closes a connection whose headers trickle in, with a 408 problem, long before Node's 60 s", async () => {
    const out = await slowClient(origin!.port, "GET /healthz HTTP/1.1\r\nHost: origin\r\n", "X-Slow: 1\r\n", 30_000);
    expect(out.closed).toBe(true);
    expect(out.received).toMatch(/^HTTP\/1\.1 408 /);
    expect(out.received).toContain("application/problem+json");
  }, 40_000);

  it("closes a connection whose body trickles in, long before Node's 300 s", async () => {
    const head = `POST /v1/agents HTTP/1.1\r\nHost: origin\r\nAuthorization: Bearer ${fx.adminKey}\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{`;
    const out = await slowClient(origin!.port, head, " ", 30_000);
    expect(out.closed).toBe(true);
    // Never a 500 for a client that was too slow: a 408 problem, or nothing if the socket went first.
    expect(out.received).not.toMatch(/^HTTP\/1\.1 5/);
  }, 40_000);

  it("a client that hangs up (or is cut off) mid-body is a 4xx, not a 503 'database unavailable' that pages the on-call", async () => {
    // No key needed: the body is read before authentication (the JSON checks run for every route).
    const head = 'POST /v1/agents HTTP/1.1\r\nHost: origin\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":';
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve) => {
        const s = connect(origin!.port, "127.0.0.1", () => {
          s.write(head);
          setTimeout(() => s.destroy(), 300);
        });
        s.on("error", () => {});
        s.on("close", () => resolve());
      });
    }
    // The slow-body case above was cut off by the request timeout: the same.
    await new Promise((r) => setTimeout(r, 500));
    const requests = origin!
      .log()
      .split("\n")
      .filter((l) => l.includes('"path":"/v1/agents"') || l.includes('"route":"unmatched"') || l.includes('"database_unavailable"'));
    expect(requests.filter((l) => l.includes("database_unavailable"))).toEqual([]);
    expect(requests.filter((l) => /"status":5\d\d/.test(l))).toEqual([]);
    const metrics = await (await fetch(`${origin!.url}/metrics`)).text();
    expect(metrics).not.toMatch(/kakunin_http_requests_total\{[^}]*status="5\d\d"/);
  }, 40_000);

  it("bounds the connections open at once: past the limit a connection is closed unanswered, and freed places are taken again", async () => {
    const held = await Promise.all(Array.from({ length: 9 }, () => keptAlive(origin!.port)));
    try {
      const answered = held.filter((h) => h.answer.startsWith("HTTP/1.1 200")).length;
      // Six at most (the test's own pooled fetch from start-up may hold one of them).
      expect(answered).toBeLessThanOrEqual(6);
      expect(answered).toBeGreaterThanOrEqual(1);
      expect(held.some((h) => h.answer === "")).toBe(true);
    } finally {
      for (const h of held) h.socket.destroy();
    }
    // The places are free again once those sockets are gone.
    await new Promise((r) => setTimeout(r, 500));
    const r = await fetch(`${origin!.url}/healthz`);
    expect(r.status).toBe(200);
  }, 40_000);
});
