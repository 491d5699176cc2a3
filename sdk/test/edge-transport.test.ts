import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createVerifier } from "../src/index.ts";
import { activeAnswer } from "./edge-answer.ts";

const servers: Server[] = [];
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

describe("a hostile or broken edge cannot make the gateway read without bound", () => {
  it("a 200 whose body never stops is cut off after a small cap, well before the deadline", async () => {
    let pulled = 0;
    const chunk = new Uint8Array(64 * 1024).fill(0x20);
    const fetch = async (r: Request) => {
      const head = new TextEncoder().encode(`{"data":${JSON.stringify(activeAnswer(new URL(r.url).pathname.split("/").pop() ?? ""))},"pad":"`);
      let first = true;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (first) c.enqueue(head);
          first = false;
          pulled += chunk.byteLength;
          c.enqueue(chunk);
        },
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    };
    const started = Date.now();
    const r = await createVerifier({ edgeUrl: "http://edge.test", fetch, includeCertificate: false, timeoutMs: 30_000 }).verify("4d2f");
    expect(r).toMatchObject({ kind: "edge_unavailable", valid: false });
    expect(r.reasons[0]?.detail).toMatch(/too large/);
    expect(pulled).toBeLessThan(2 * 1024 * 1024);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe("the gateway talks to the edge it was configured with, and says why it could not", () => {
  it("a redirect to another host is not followed: its answer is not trusted", async () => {
    const elsewhere = await serve((req, res) => {
      const serial = (req.url ?? "").split("?")[0]?.split("/").pop() ?? "";
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ data: activeAnswer(serial) }));
    });
    const edgeUrl = await serve((req, res) => {
      res.statusCode = 302;
      res.setHeader("location", `${elsewhere}${req.url ?? "/"}`);
      res.end();
    });
    const r = await createVerifier({ edgeUrl, includeCertificate: false }).verify("4d2f");
    expect(r).toMatchObject({ kind: "edge_unavailable", valid: false });
    expect(r.reasons[0]?.detail).toMatch(/302.*redirect/);
  });

  it("a refused connection names its cause, not just 'fetch failed'", async () => {
    const closed = await serve(() => undefined);
    servers.splice(0).forEach((s) => s.close());
    const r = await createVerifier({ edgeUrl: closed, includeCertificate: false }).verify("4d2f");
    expect(r).toMatchObject({ kind: "edge_unavailable", valid: false });
    expect(r.reasons[0]?.detail).toMatch(/ECONNREFUSED/);
  });
});
