import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";

export const route = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Readiness: 200 once the database answers",
  responses: { 200: { description: "Ready", content: { "application/json": { schema: z.object({ status: z.literal("ok"), key_manager: z.string(), database: z.string(), key_pool: z.object({ ready: z.number(), target: z.number() }).optional() }) } } } },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    await s.db.execute(sql`select 1`);
    const pool = await s.keys.poolStatus?.();
    return c.json({ status: "ok" as const, key_manager: s.keys.kind, database: s.config.DATABASE_URL ? "postgres" : "pglite", ...(pool ? { key_pool: pool } : {}) }, 200);
  });
}
