import type { Server, ServerOptions } from "node:http";
import type { Config } from "../config.ts";

/**
 * How long, and how many, clients may hold the origin's sockets. Node's defaults are for a server
 * behind a proxy that buffers requests: a request may take 300 s to arrive (`requestTimeout`), its
 * headers 60 s, and both are checked only every 30 s, with no bound on connections. Facing clients
 * directly (the origin needs no proxy), one slow client held a socket, a file descriptor and the
 * request's handler for up to five and a half minutes by sending a byte a second, and enough of
 * them used up the descriptors the database, KMS and archive connections also need.
 */
export interface ServerLimits {
  /** Time for the request line and headers to arrive (Node's `headersTimeout`). */
  headersTimeoutMs: number;
  /** Time for the whole request, body included, to arrive (Node's `requestTimeout`). */
  requestTimeoutMs: number;
  /** How long an idle kept-alive connection waits for its next request (Node's `keepAliveTimeout`). */
  keepAliveTimeoutMs: number;
  /** A socket on which nothing is sent or received this long is closed (Node's `server.timeout`): a client that stops reading a response. */
  idleTimeoutMs: number;
  /** Sockets open at once; a connection past it is closed at once (Node's `maxConnections`). 0: no limit. */
  maxConnections: number;
}

/** How often Node looks for requests past their timeouts: the timeouts hold to within this. */
const CHECK_INTERVAL_MS = 1000;

export function serverLimits(
  c: Pick<
    Config,
    | "KAKUNIN_HTTP_HEADERS_TIMEOUT_MS"
    | "KAKUNIN_HTTP_REQUEST_TIMEOUT_MS"
    | "KAKUNIN_HTTP_KEEP_ALIVE_TIMEOUT_MS"
    | "KAKUNIN_HTTP_IDLE_TIMEOUT_MS"
    | "KAKUNIN_HTTP_MAX_CONNECTIONS"
  >,
): ServerLimits {
  return {
    // Node refuses a headers timeout longer than the request's: the request's bounds both.
    headersTimeoutMs: Math.min(c.KAKUNIN_HTTP_HEADERS_TIMEOUT_MS, c.KAKUNIN_HTTP_REQUEST_TIMEOUT_MS),
    requestTimeoutMs: c.KAKUNIN_HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: c.KAKUNIN_HTTP_KEEP_ALIVE_TIMEOUT_MS,
    idleTimeoutMs: c.KAKUNIN_HTTP_IDLE_TIMEOUT_MS,
    maxConnections: c.KAKUNIN_HTTP_MAX_CONNECTIONS,
  };
}

/** The options `http.createServer` takes at creation (the timeouts and how often they are checked). */
export function serverOptions(l: ServerLimits): ServerOptions {
  return {
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.min(CHECK_INTERVAL_MS, l.headersTimeoutMs),
  };
}

/** What can only be set on the server once it exists. */
export function applyServerLimits(server: Pick<Server, "maxConnections" | "setTimeout">, l: ServerLimits): void {
  if (l.maxConnections > 0) server.maxConnections = l.maxConnections;
  // Without a 'timeout' listener Node destroys the idle socket, which is the point.
  server.setTimeout(l.idleTimeoutMs);
}
