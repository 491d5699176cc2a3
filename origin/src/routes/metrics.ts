import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { collectShared } from "../observability/shared-collection.ts";
import { timingSafeEqualText } from "../observability/timing-safe.ts";

export const route = createRoute({
  method: "get",
  path: "/metrics",
  summary: "Prometheus metrics (text exposition format); a bearer token when KAKUNIN_METRICS_TOKEN is set",
  responses: {
    200: { description: "Metrics", content: { "text/plain": { schema: z.string() } } },
    401: { description: "KAKUNIN_METRICS_TOKEN is set and the request does not carry it", content: { "application/problem+json": { schema: z.object({ type: z.string(), title: z.string(), status: z.number(), detail: z.string() }) } } },
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { config, metrics } = c.var.services;
    if (config.KAKUNIN_METRICS_TOKEN !== undefined) {
      const given = /^Bearer (.+)$/.exec(c.req.header("authorization") ?? "")?.[1] ?? "";
      if (!timingSafeEqualText(given, config.KAKUNIN_METRICS_TOKEN)) throw new ApiError("unauthorized", "GET /metrics needs the metrics bearer token (KAKUNIN_METRICS_TOKEN).");
    }
    const body = await collectShared(metrics.registry);
    return c.text(body, 200, { "content-type": metrics.registry.contentType });
  });
}
