import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { eq } from "drizzle-orm";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { tenants } from "../db/schema.ts";
import { scoringPublished } from "../publish/scoring-published.ts";
import { scoringView, toScoringView } from "../views/scoring.ts";
import { bearer, dataResponse, errorResponses } from "./openapi.ts";

export const route = createRoute({
  method: "get",
  path: "/v1/tenant/scoring",
  summary: "The tenant's scoring overrides (band thresholds, feature weights) and shadow candidate",
  security: bearer,
  middleware: [requireRole("admin", "auditor")] as const,
  responses: { 200: dataResponse(scoringView, "The scoring configuration"), ...errorResponses() },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const db = c.var.services.db;
    const [t] = await db.select({ scoring: tenants.scoring }).from(tenants).where(eq(tenants.id, c.var.caller.tenantId));
    return c.json({ data: toScoringView(t!.scoring, await scoringPublished(db, c.var.caller.tenantId)) }, 200);
  });
}
