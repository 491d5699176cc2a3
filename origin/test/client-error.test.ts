import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { answerClientErrors, clientErrorProblem } from "../src/http/client-error.ts";

/** What the server writes back to a raw request before it closes the connection. */
function exchange(port: number, request: string, endAfterWrite: boolean): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host: "127.0.0.1", port }, () => (endAfterWrite ? socket.end(request) : socket.write(request)));
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on("data", (c) => chunks.push(c));
    socket.on("error", () => undefined);
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
  });
}

describe("requests the HTTP parser refuses", () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

  async function listen(opts: { headersTimeout?: number; requestTimeout?: number; connectionsCheckingInterval?: number } = {}): Promise<number> {
    server = createServer(opts, (_req, res) => res.end("ok"));
    answerClientErrors(server);
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    const addr = server.address();
    return typeof addr === "object" && addr ? addr.port : 0;
  }

  it("answers a request too slow to arrive with a 408 problem and closes", async () => {
    const port = await listen({ headersTimeout: 300, requestTimeout: 300, connectionsCheckingInterval: 50 });
    const raw = await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\n", false);
    expect(raw).toMatch(/^HTTP\/1\.1 408 /);
    expect(raw).toMatch(/\r\ncontent-type: application\/problem\+json\r\n/);
    expect(raw).toMatch(/\r\nconnection: close\r\n/);
    expect(JSON.parse(raw.split("\r\n\r\n")[1]!)).toMatchObject({ status: 408, type: "urn:kakunin:problem:request-timeout" });
  });

  it("answers headers over the limit with a 431 problem whose length is right", async () => {
    const port = await listen();
    const raw = await exchange(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(40_000)}\r\n\r\n`, true);
    const [head, body] = raw.split("\r\n\r\n") as [string, string];
    expect(head).toMatch(/^HTTP\/1\.1 431 /);
    expect(Number(/content-length: (\d+)/.exec(head)?.[1])).toBe(Buffer.byteLength(body));
    expect(JSON.parse(body)).toMatchObject({ status: 431, type: "urn:kakunin:problem:headers-too-large" });
  });

  it("still serves well-formed requests", async () => {
    const port = await listen();
    expect(await exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true)).toMatch(/^HTTP\/1\.1 200 [\s\S]*ok$/);
  });

  it("writes nothing when the peer is gone", () => {
    expect(clientErrorProblem("ECONNRESET")).toBeUndefined();
    expect(clientErrorProblem("HPE_INVALID_METHOD")).toMatchObject({ type: "bad-request" });
  });
});
