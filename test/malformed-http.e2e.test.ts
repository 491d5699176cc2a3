import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSystem, systemFixture, type RunningSystem } from "./support/system.ts";

/** One raw HTTP/1.1 exchange: what the server writes back until it closes or 5 s pass. */
function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: hostname, port: Number(port) }, () => socket.end(request));
    socket.setTimeout(5000, () => socket.destroy());
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", (e) => (chunks.length ? resolve(Buffer.concat(chunks).toString("latin1")) : reject(e)));
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
  });
}

/** Status, content type and the parsed body of a raw response (the body may be chunked: the JSON object is taken from it). */
function parse(raw: string): { status: number; type: string | undefined; body: Record<string, unknown> | undefined } {
  const [head = "", rest = ""] = raw.split("\r\n\r\n", 2);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  const type = /\r\ncontent-type: *([^;\r\n]+)/i.exec(head)?.[1]?.trim().toLowerCase();
  const json = /\{[\s\S]*\}/.exec(rest)?.[0];
  let body: Record<string, unknown> | undefined;
  try {
    body = json ? (JSON.parse(json) as Record<string, unknown>) : undefined;
  } catch {
    body = undefined;
  }
  return { status, type, body };
}

/**
 * Requests the HTTP server refuses before any route sees them (headers over its limit, a request
 * line that is not HTTP) are bad input like any other: an RFC 9457 problem with the right status,
 * never a bare status line. Until 2026-12-07 the origin's Node server answered them itself, with an
 * empty 431 or 400, which a client's problem+json handling cannot read.
 */
describe("requests refused below the router", () => {
  const fx = systemFixture();
  let sys: RunningSystem;
  beforeAll(async () => {
    sys = await startSystem(fx);
  }, 180_000);
  afterAll(async () => {
    await sys?.stop();
    fx.cleanup();
  });

  it("origin: headers over the limit are a 431 problem", async () => {
    const raw = await rawExchange(sys.origin.url, `GET /v1/agents HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`);
    const r = parse(raw);
    expect(r.status).toBe(431);
    expect(r.type).toBe("application/problem+json");
    expect(r.body).toMatchObject({ status: 431, type: "urn:kakunin:problem:headers-too-large" });
  });

  it("origin: a request line that is not HTTP is a 400 problem", async () => {
    const r = parse(await rawExchange(sys.origin.url, "HELLO THERE\r\n\r\n"));
    expect(r.status).toBe(400);
    expect(r.type).toBe("application/problem+json");
    expect(r.body).toMatchObject({ status: 400, type: "urn:kakunin:problem:bad-request" });
  });

  it("origin: a long URL is answered by the router (404 or 400 problem), not cut off", async () => {
    const r = parse(await rawExchange(sys.origin.url, `GET /v1/agents/${"a".repeat(12 * 1024)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    expect(r.type).toBe("application/problem+json");
    expect([400, 401, 404, 422]).toContain(r.status);
  });

  it("edge: a long URL and big headers are problems too", async () => {
    for (const request of [
      `GET /v1/verify/${"a".repeat(12 * 1024)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      `GET /v1/verify/00ff HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\nConnection: close\r\n\r\n`,
    ]) {
      const r = parse(await rawExchange(sys.edge.url, request));
      expect({ status: r.status, type: r.type }).toMatchObject({ type: "application/problem+json" });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
  });
});
