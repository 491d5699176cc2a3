import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startTestOrigin, type TestOrigin } from "../../origin/test/harness.ts";

export interface ServedOrigin {
  origin: TestOrigin;
  /** http://127.0.0.1:<port>, what the browser opens. */
  url: string;
  close(): Promise<void>;
}

async function bodyOf(req: IncomingMessage): Promise<Uint8Array<ArrayBuffer> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return chunks.length === 0 ? undefined : new Uint8Array(Buffer.concat(chunks));
}

/**
 * A real origin (PGlite, real CA and audit log, as origin/test/harness.ts builds it) behind a
 * loopback HTTP socket, for the browser: the console is the origin's, so a page test needs neither
 * the edge nor wrangler. The port is the kernel's (listen on 0): bound at once, so it cannot be
 * taken between a probe and the bind.
 */
export async function servedOrigin(): Promise<ServedOrigin> {
  const origin = await startTestOrigin("pglite");
  let url = "";
  const server: Server = createServer((req, res) => {
    void (async () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      const method = req.method ?? "GET";
      const body = method === "GET" || method === "HEAD" ? undefined : await bodyOf(req);
      // The absolute URL, so the console compares a form's Origin with the origin the browser is on.
      const answer = await origin.request(method, `${url}${req.url ?? "/"}`, { key: null, headers, rawBody: body });
      const out = new Map<string, string | string[]>();
      answer.headers.forEach((v, k) => {
        if (k !== "set-cookie") out.set(k, v);
      });
      const cookies = answer.headers.getSetCookie();
      if (cookies.length > 0) out.set("set-cookie", cookies);
      res.writeHead(answer.status, Object.fromEntries(out));
      res.end(Buffer.from(await answer.arrayBuffer()));
    })().catch((e: unknown) => {
      res.writeHead(502);
      res.end(String(e));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    url,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await origin.close();
    },
  };
}
