import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";

export const route = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness: 200 while the process serves requests (no dependency is asked; see /readyz)",
  responses: { 200: { description: "Alive", content: { "application/json": { schema: z.object({ status: z.literal("ok"), key_manager: z.string(), database: z.string() }) } } } },
});

/**
 * Liveness only. A restarting database or a hung KMS must not make an orchestrator kill a
 * healthy process (which would lose nothing but recover nothing either); /readyz reports those.
 */
export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, (c) => {
    const s = c.var.services;
    return c.json({ status: "ok" as const, key_manager: s.keys.kind, database: s.config.DATABASE_URL ? "postgres" : "pglite" }, 200);
  });
}
