import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, asc, eq } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeys } from "../db/schema.ts";
import { afterCursor, cursorParam, keysetPage, pageQuery } from "./cursor.ts";
import { bearer, errorResponses } from "./openapi.ts";
import { apiKeyView, toApiKeyView } from "./v1_api_keys_create.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/api-keys",
  summary: "List the tenant's API keys (never the keys themselves)",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  // Paged like every list: nothing caps how many keys a tenant creates, and `?limit=` was ignored.
  request: { query: pageQuery },
  responses: {
    200: {
      description: "Oldest first, a page at a time: next_cursor is set while more keys remain",
      content: { "application/json": { schema: z.object({ data: z.array(apiKeyView), next_cursor: z.string().nullable() }) } },
    },
    ...errorResponses(422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const q = c.req.valid("query");
    const cursor = cursorParam(q.cursor);
    const conds = [eq(apiKeys.tenantId, c.var.caller.tenantId)];
    if (cursor) conds.push(afterCursor(apiKeys.createdAt, apiKeys.id, cursor));
    const rows = await c.var.services.db
      .select()
      .from(apiKeys)
      .where(and(...conds))
      .orderBy(asc(apiKeys.createdAt), asc(apiKeys.id))
      .limit(q.limit + 1);
    const { page, next } = keysetPage(rows, q.limit, (r) => r);
    return c.json({ data: page.map(toApiKeyView), next_cursor: next }, 200);
  });
}
