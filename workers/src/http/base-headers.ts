import type { MiddlewareHandler } from "hono";
import { requestIdFrom } from "@kakunin/shared";
import type { EdgeEnv } from "../app-env.ts";

/**
 * The headers every edge answer carries, as every origin answer does (origin observeRequests and
 * baseHeaders): an `x-request-id` by the same rules (the caller's when it is a sane token, else a
 * traceparent's trace id, else a fresh UUID) so a caller has one thing to quote, `nosniff`, and
 * `no-store` unless the route chose its own caching (verify, CRL, OCSP, DID keep theirs).
 */
export const edgeBaseHeaders: MiddlewareHandler<EdgeEnv> = async (c, next) => {
  const { requestId } = requestIdFrom(c.req.raw.headers);
  // For the routes whose work reaches the origin later (ingest → forwarding): the same id goes along.
  c.set("requestId", requestId);
  // Set before the route as well, so onError can log the id it finds on the answer.
  c.header("x-request-id", requestId);
  await next();
  // Problem answers (notFound, onError, edgeProblem) and raw Responses never saw the header above.
  if (!c.res.headers.has("x-request-id")) c.header("x-request-id", requestId);
  c.header("x-content-type-options", "nosniff");
  if (!c.res.headers.has("cache-control")) c.header("cache-control", "no-store");
};
