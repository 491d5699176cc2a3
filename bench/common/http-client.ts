import { Agent, request } from "node:http";

export interface HttpResponse {
  status: number;
  body: Buffer;
  /** Response headers, lower-case names (node:http client only). */
  headers?: Record<string, string | string[] | undefined>;
}

/** The two ways the load generator can talk HTTP/1.1; every call reads the whole body. */
export interface HttpClient {
  readonly name: string;
  get(url: string): Promise<HttpResponse>;
  /** `headers` are sent as well (e.g. `authorization`). */
  post(url: string, body: Uint8Array, contentType: string, headers?: Record<string, string>): Promise<HttpResponse>;
  close(): void;
}

/**
 * Node's global fetch. Its dispatcher is undici's global Agent, which keeps connections alive and
 * opens as many per origin as there are requests in flight. (undici itself is not a dependency of
 * this package, so its Agent cannot be configured from here; the defaults are what apps get.)
 */
export function fetchClient(): HttpClient {
  const call = async (url: string, init?: RequestInit): Promise<HttpResponse> => {
    const res = await fetch(url, init);
    return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
  };
  return {
    name: "fetch (undici, keep-alive)",
    get: (url) => call(url),
    post: (url, body, contentType, headers) => call(url, { method: "POST", body, headers: { ...headers, "content-type": contentType } }),
    close: () => undefined,
  };
}

/** node:http with a keep-alive Agent holding up to `maxSockets` connections per host. */
export function nodeHttpClient(maxSockets: number): HttpClient {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const call = (url: string, method: string, body?: Uint8Array, contentType?: string, extra: Record<string, string> = {}): Promise<HttpResponse> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...extra };
      if (body) {
        headers["content-type"] = contentType ?? "application/octet-stream";
        headers["content-length"] = body.byteLength;
      }
      const req = request(url, { method, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), headers: res.headers }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
  return {
    name: "node:http (keep-alive Agent)",
    get: (url) => call(url, "GET"),
    post: (url, body, contentType, headers) => call(url, "POST", body, contentType, headers),
    close: () => agent.destroy(),
  };
}
