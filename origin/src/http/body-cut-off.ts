import type { IncomingMessage } from "node:http";

/**
 * Whether the request's body stopped arriving: its connection was closed (the client went away,
 * or the server's request timeout cut a client too slow to send it) before the body was complete.
 * Reading the body then fails with Node's `aborted` error (code ECONNRESET), which is also what a
 * dropped database connection looks like, so without this check such a request was answered and
 * logged as `database-unavailable` (503): anyone could page the on-call (ApiErrors) with requests
 * they hang up on, no key needed. `env` is @hono/node-server's bindings (absent in app.request tests).
 */
export function requestBodyCutOff(env: unknown): boolean {
  const incoming = (env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return incoming !== undefined && !incoming.complete && incoming.destroyed;
}
