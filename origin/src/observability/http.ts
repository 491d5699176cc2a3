import type { MiddlewareHandler } from "hono";
import { requestIdFrom } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import type { Caller } from "../auth/authenticate.ts";
import { inRequest, type Logger } from "./logger.ts";
import type { Metrics } from "./metrics.ts";

const CERTIFY = /^\/v1\/agents\/:id\/(certify|certificates\/renew)$/;
const REVOKE = "/v1/certificates/:id/revoke";

/**
 * One JSON log line and one metric sample per request: request id (accepted from `x-request-id`
 * or `traceparent`, echoed back), tenant, route template (never the raw path with ids in label
 * values), status and latency. Only those fields: headers and bodies are never logged.
 */
export function observeRequests(logger: Logger, metrics: Metrics): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const start = performance.now();
    const { requestId, traceId } = requestIdFrom(c.req.raw.headers);
    c.header("x-request-id", requestId);
    let thrown: unknown;
    try {
      await inRequest(requestId, next);
    } catch (e) {
      thrown = e;
    }
    // Problem answers (onError, notFound) are fresh Responses that never saw the header set above:
    // set it again, so the answers a caller most needs to quote carry their id too.
    if (thrown === undefined && !c.res.headers.has("x-request-id")) c.header("x-request-id", requestId);
    const status = thrown === undefined ? c.res.status : 500;
    const route = c.req.routePath && c.req.routePath !== "/*" && c.req.routePath !== "*" ? c.req.routePath : "unmatched";
    const seconds = (performance.now() - start) / 1000;
    const labels = { method: c.req.method, route, status: String(status) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, seconds);
    if (status < 300 && c.req.method === "POST") {
      if (CERTIFY.test(route)) metrics.certificatesIssued.inc();
      else if (route === REVOKE) metrics.certificatesRevoked.inc();
    }
    if (route !== "/metrics") {
      const caller: Caller | undefined = c.get("caller");
      logger.log(status >= 500 ? "error" : "info", "request", {
        component: "http",
        request_id: requestId, trace_id: traceId, method: c.req.method, route, status,
        latency_ms: Math.round(seconds * 1e4) / 10, tenant: caller?.tenantId,
      });
    }
    if (thrown !== undefined) throw thrown;
  };
}
