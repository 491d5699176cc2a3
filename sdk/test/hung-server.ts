import { createServer, type Socket } from "node:net";

/** A server that accepts connections, reads the requests and never answers: a hung edge or origin. */
export interface HungServer {
  url: string;
  /** Connections the server saw closed (by the client aborting its request). */
  closed(): number;
  /** Connections still open. */
  open(): number;
  close(): Promise<void>;
}

export async function startHungServer(): Promise<HungServer> {
  const open = new Set<Socket>();
  let closed = 0;
  const server = createServer((s) => {
    open.add(s);
    s.resume();
    s.on("close", () => {
      open.delete(s);
      closed++;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const a = server.address();
  return {
    url: `http://127.0.0.1:${a && typeof a === "object" ? a.port : 0}`,
    closed: () => closed,
    open: () => open.size,
    close: async () => {
      for (const s of open) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
