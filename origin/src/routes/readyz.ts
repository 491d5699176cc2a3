import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { problem, problemResponse } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { readiness } from "../readiness.ts";

const check = z.object({ ok: z.boolean(), detail: z.string().optional(), ms: z.number() });
// `background` is always ok: its detail names background jobs that keep failing (degraded, still ready).
const checks = z.object({ database: check, key_manager: check, publish_lag: check, background: check });

export const route = createRoute({
  method: "get",
  path: "/readyz",
  summary: "Readiness: database, key manager and publish lag, each under a 2 s timeout; failing background jobs named, without failing it; 503 from the moment the origin is told to stop",
  responses: {
    200: { description: "Ready", content: { "application/json": { schema: z.object({ status: z.literal("ready"), checks }) } } },
    503: { description: "Not ready: problem+json naming the failed checks, with every check's result", content: { "application/problem+json": { schema: z.object({ type: z.string(), detail: z.string(), checks }) } } },
  },
});

/** For load balancers and orchestrators: route traffic here only while this answers 200. */
export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const result = await readiness(c.var.services);
    // Shutting down: not ready whatever the checks say, so a load balancer stops sending here.
    if (c.var.services.drain?.active) {
      return problemResponse({ ...problem("not-ready", "Not ready: shutting down", { checks: result }), instance: "/readyz" }, { "retry-after": "5" }) as never;
    }
    const failed = Object.entries(result).filter(([, r]) => !r.ok);
    if (failed.length === 0) return c.json({ status: "ready" as const, checks: result }, 200);
    const detail = `Not ready: ${failed.map(([name, r]) => `${name} (${r.detail ?? "failed"})`).join("; ")}`;
    return problemResponse({ ...problem("not-ready", detail, { checks: result }), instance: "/readyz" }, { "retry-after": "5" }) as never;
  });
}
