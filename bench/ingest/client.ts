import { nodeHttpClient, type HttpResponse } from "../common/http-client.ts";

/**
 * The ingest load generator's POST: node:http with a keep-alive Agent holding up to `maxSockets`
 * connections, one per request in flight (bench/verify found it cheaper per request than fetch on
 * this machine), with the agent's ingest token as bearer. Reads every body.
 */
export function poster(maxSockets: number): { post(url: string, token: string, body: Buffer): Promise<HttpResponse>; close(): void } {
  const client = nodeHttpClient(maxSockets);
  return {
    post: (url, token, body) => client.post(url, body, "application/json", { authorization: `Bearer ${token}` }),
    close: () => client.close(),
  };
}
