import type { MiddlewareHandler } from "hono";
import type { EdgeEnv } from "../app-env.ts";

/**
 * The edge's public routes: no credential, the same answer for everyone (README "Edge API", auth
 * "public"). Routes that take a credential (ingest, risk, admin metrics, internal calls) are not
 * here, so a web page on another origin can never use them.
 */
const PUBLIC_PATHS = [
  /^\/v1\/verify\//,
  /^\/v1\/(ca|crl)(\/|$)/,
  /^\/v1\/ocsp(\/|$)/,
  /^\/v1\/did\//,
  /^\/v1\/agents\/[^/]+\/did\.json$/,
  /^\/(healthz|openapi\.json)$/,
];

/** Response headers a page may read beyond the CORS-safelisted ones (the SDK reads Age; ETag revalidates; the request id is what to quote). */
const EXPOSED = "age, date, etag, retry-after, x-request-id";

/** How long a browser may keep a preflight's answer (seconds). */
const PREFLIGHT_MAX_AGE_S = 86_400;

/**
 * CORS for the public routes: `Access-Control-Allow-Origin: *` on every answer (problems too), and
 * a preflight (OPTIONS with Access-Control-Request-Method) answered 204 with the path's methods.
 * Without it a browser refused every answer to a page on another origin, and @kakunin/verify,
 * which says it runs in browsers, could not verify from one. No credentials are involved: `*` is
 * exactly the reach these answers already have. A plain OPTIONS (not a preflight) still gets 405.
 * `methodsAt(path)` lists the methods with a route at the path (undefined when none).
 */
export function publicCors(methodsAt: (path: string) => string | undefined): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const path = new URL(c.req.url).pathname;
    if (!PUBLIC_PATHS.some((p) => p.test(path))) return next();
    if (c.req.method === "OPTIONS" && c.req.header("access-control-request-method") !== undefined) {
      const methods = methodsAt(path);
      if (methods) {
        return new Response(null, {
          status: 204,
          headers: {
            "access-control-allow-origin": "*",
            "access-control-allow-methods": methods,
            "access-control-allow-headers": "*",
            "access-control-max-age": String(PREFLIGHT_MAX_AGE_S),
          },
        });
      }
    }
    await next();
    c.header("access-control-allow-origin", "*");
    c.header("access-control-expose-headers", EXPOSED);
  };
}
