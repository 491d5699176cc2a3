import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { scoringCandidatePatchSchema, scoringOverridesSchema, thresholdsPatchSchema } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { updateScoring } from "../lifecycle/update-scoring.ts";
import { scoringPublished } from "../publish/scoring-published.ts";
import { scoringView, toScoringView } from "../views/scoring.ts";
import { orThrow } from "./fail.ts";
import { bearer, dataResponse, errorResponses, jsonBody } from "./openapi.ts";

export const scoringPatch = z
  .strictObject({
    thresholds: thresholdsPatchSchema.nullable().optional(),
    weights: scoringOverridesSchema.shape.weights.unwrap().nullable().optional(),
    shadow: scoringCandidatePatchSchema.nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: "at least one of thresholds, weights, shadow is required" });

export const route = createRoute({
  method: "patch",
  path: "/v1/tenant/scoring",
  summary: "Override band thresholds and feature weights, or set a shadow candidate (admin; audited, published to the edge)",
  description:
    "Each field present replaces the stored one; null removes it. `thresholds` may give one line: the other keeps its " +
    "stored value (a shadow candidate's, the default). Weights (0–10) scale a feature's evidence: 0 mutes it, 2 " +
    "counts it twice. `shadow` is scored beside the active configuration without acting; see GET /v1/tenant/scoring/shadow.",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { body: jsonBody(scoringPatch) },
  responses: { 200: dataResponse(scoringView, "The new configuration"), ...errorResponses(422) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const next = orThrow(await updateScoring(c.var.services, c.var.caller.tenantId, c.req.valid("json"), apiKeyActor(c.var.caller)));
    // Just queued for the edge: false unless the publisher was quicker than this read.
    return c.json({ data: toScoringView(next, await scoringPublished(c.var.services.db, c.var.caller.tenantId)) }, 200);
  });
}
