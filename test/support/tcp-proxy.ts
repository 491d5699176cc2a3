import { connect, createServer, type Socket } from "node:net";

export interface TcpProxy {
  /** The proxy's own port on 127.0.0.1. */
  port: number;
  /** `http://127.0.0.1:<port>`, for endpoints that take a base URL. */
  url: string;
  /**
   * true: every open connection is reset and new ones are reset on accept, so clients see
   * ECONNRESET at once (an outage that does not wait for timeouts); false: forward again.
   * The server behind keeps its data either way.
   */
  setDown(down: boolean): void;
  /**
   * true: every open connection is reset and new ones are accepted and then left hanging, never
   * forwarded nor answered (a blackholed network, a full Ceph OSD): clients see only their own
   * timeouts; false: forward again.
   */
  setHung(hung: boolean): void;
  isDown(): boolean;
  /** Connections accepted while down (to check the client really tried during the outage). */
  refused(): number;
  /** HTTP requests received, and left unanswered, on connections accepted while hung. */
  hungRequests(): number;
  /** Their request lines ("HEAD /bucket/key HTTP/1.1"), in arrival order. */
  hungRequestLines(): string[];
  close(): Promise<void>;
}

/** A byte-level TCP forwarder on 127.0.0.1 in front of `target`, whose outage a test switches on and off. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let down = false;
  let hung = false;
  let refused = 0;
  let stalled = 0;
  const stalledLines: string[] = [];
  const open = new Set<Socket>();
  // RST rather than FIN: a half-closed socket can look like a short reply to an HTTP client.
  const kill = (s: Socket): void => {
    if (!s.destroyed) s.resetAndDestroy();
  };

  const server = createServer((client) => {
    if (down) {
      refused++;
      kill(client);
      return;
    }
    if (hung) {
      // Read and drop whatever the client sends; answer nothing until it gives up.
      open.add(client);
      client.on("error", () => kill(client)).on("close", () => open.delete(client));
      // Count HTTP requests, not connections: undici opens spare connections of its own.
      client.on("data", (chunk: Buffer) => {
        const requests = chunk.toString("latin1").match(/^(?:GET|HEAD|PUT|POST|DELETE) \S+ HTTP\/1\.1\r$/gm) ?? [];
        stalled += requests.length;
        stalledLines.push(...requests.map((r) => r.trimEnd()));
      });
      return;
    }
    const upstream = connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const drop = (): void => {
      kill(client);
      kill(upstream);
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const a = server.address();
  const port = a && typeof a === "object" ? a.port : 0;

  return {
    port,
    url: `http://127.0.0.1:${port}`,
    setDown(d) {
      down = d;
      if (d) for (const s of open) kill(s);
      if (d) open.clear();
    },
    setHung(h) {
      hung = h;
      if (h) for (const s of open) kill(s);
      if (h) open.clear();
    },
    isDown: () => down,
    refused: () => refused,
    hungRequests: () => stalled,
    hungRequestLines: () => [...stalledLines],
    close: async () => {
      for (const s of open) kill(s);
      open.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
