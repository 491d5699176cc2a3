import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { asc, eq } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeys } from "../db/schema.ts";
import { bearer, errorResponses } from "./openapi.ts";
import { apiKeyView, toApiKeyView } from "./v1_api_keys_create.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/api-keys",
  summary: "List the tenant's API keys (never the keys themselves)",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  responses: {
    200: { description: "Keys", content: { "application/json": { schema: z.object({ data: z.array(apiKeyView), next_cursor: z.null() }) } } },
    ...errorResponses(),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const rows = await c.var.services.db.select().from(apiKeys).where(eq(apiKeys.tenantId, c.var.caller.tenantId)).orderBy(asc(apiKeys.createdAt));
    return c.json({ data: rows.map(toApiKeyView), next_cursor: null }, 200);
  });
}
