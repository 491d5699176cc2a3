import { OpenAPIHono } from "@hono/zod-openapi";
import { wrongMethodAllow } from "@kakunin/shared";
import type { EdgeEnv } from "./app-env.ts";
import { edgeBaseHeaders } from "./http/base-headers.ts";
import { cappedBodies } from "./http/capped-body.ts";
import { publicCors } from "./http/public-cors.ts";
import { edgeProblem } from "./http/problems.ts";
import { StoreUnavailable, storeUnavailable } from "./http/store-unavailable.ts";
import { registerHealth, serveOpenApi } from "./openapi/document.ts";
import * as internalPublish from "./routes/internal_publish.ts";
import * as ca from "./routes/v1_ca.ts";
import * as ocsp from "./routes/v1_ocsp.ts";
import * as did from "./routes/v1_did.ts";
import * as verify from "./routes/v1_verify.ts";
import * as events from "./routes/v1_events.ts";
import * as risk from "./routes/v1_agents_risk.ts";
import * as benchNoop from "./routes/bench_noop.ts";
import * as adminMetrics from "./routes/v1_admin_metrics.ts";

/**
 * The edge's Hono app. Every route documents itself as it registers; /openapi.json is served from
 * that registry, and workers/test/openapi.test.ts checks `app.routes` against it both ways.
 */
export const app = new OpenAPIHono<EdgeEnv>();

// Outermost, so every answer gets them, the 413s of the body caps and the problem answers included.
app.use("*", edgeBaseHeaders);
// Public routes can be read by a page on any origin (their preflights answered with the path's methods).
app.use("*", publicCors((path) => wrongMethodAllow(app.router, "OPTIONS", path)));
// Body caps in front of the routes (and of authentication): chunked bodies are capped too.
app.use("*", cappedBodies([
  { path: "/v1/events", max: events.MAX_BODY },
  { path: "/internal/", max: internalPublish.MAX_BYTES },
  { path: "/v1/ocsp", max: ocsp.MAX_REQUEST, tooLarge: ocsp.tooLarge },
]));
registerHealth(app);
for (const r of [verify, events, risk, ca, did, ocsp, internalPublish, adminMetrics, benchNoop]) r.register(app);
serveOpenApi(app);

app.notFound((c) => {
  const path = new URL(c.req.url).pathname;
  // A path that has routes under other methods: 405 with Allow (RFC 9110), not a missing resource.
  const allow = wrongMethodAllow(app.router, c.req.method, path);
  if (allow) return edgeProblem(c, "method-not-allowed", `${c.req.method} is not allowed on ${path}; allowed: ${allow}.`, { headers: { allow } });
  return edgeProblem(c, "not-found", `No route for ${c.req.method} ${path}`);
});
app.onError((e, c) => {
  // A store that did not answer (a Durable Object reset or overloaded, KV failing) is 503, not a bug.
  if (e instanceof StoreUnavailable) return storeUnavailable(c, e);
  // With the request id the answer carries, the one thing a caller can quote to find this line.
  console.error("[edge] unhandled error", { request_id: c.res.headers.get("x-request-id") }, e);
  return edgeProblem(c, "internal-error", "An unexpected error occurred.");
});
