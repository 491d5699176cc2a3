import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { ApiError } from "../http/api-error.ts";
import { tidy } from "../lifecycle/tidy.ts";
import { emptyJsonIsNoBody, optionalJson } from "./optional-body.ts";
import { bearer, dataResponse, errorResponses } from "./openapi.ts";

export const tidyRequest = z.strictObject({
  /** Overrides KAKUNIN_TIDY_SAFETY_BUFFER_S for this run (Vault PKI's `safety_buffer`). */
  safety_buffer_seconds: z.number().int().min(0).max(10 * 365 * 86_400).optional(),
  /**
   * Also schedule for deletion the backend's Kakunin keys this database has no record of. Only
   * when no other deployment uses the same key backend (AWS account and region, HSM token): it
   * cannot tell their keys, root and issuing CA keys included, from its own forgotten ones.
   */
  adopt_untracked: z.boolean().optional(),
});

const tidyReport = z.object({
  superseded: z.number().int(),
  certificate_keys: z.number().int(),
  retired_ca_keys: z.number().int(),
  orphan_keys: z.number().int(),
  resumed: z.number().int(),
  abandoned: z.number().int(),
  untracked_seen: z.number().int().openapi({ description: "Keys on the backend this database has no record of (left alone unless adopt_untracked)" }),
  untracked_registered: z.number().int(),
  failed: z.array(z.object({ key_ref: z.string(), error: z.string() })),
});

export const route = createRoute({
  method: "post",
  path: "/v1/admin/tidy",
  summary: "Delete KMS keys nothing needs any more (revoked, superseded, expired certificates; orphans), like Vault PKI's tidy",
  security: bearer,
  middleware: [requireRole("admin"), emptyJsonIsNoBody] as const,
  request: { body: { required: false, content: { "application/json": { schema: tidyRequest } } } },
  responses: { 200: dataResponse(tidyReport, "What this run did; run again to continue a bounded or failed run"), ...errorResponses(422) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    // Keys live in one backend for every tenant: only the operator may tidy them.
    if (!c.var.caller.isOperator) throw new ApiError("forbidden", "Only admins of the operator tenant may run tidy.");
    const body = await optionalJson(c, tidyRequest);
    const s = c.var.services;
    const report = await tidy(s.db, s.keys, {
      now: s.clock.now(),
      safetyBufferSeconds: body?.safety_buffer_seconds ?? s.config.KAKUNIN_TIDY_SAFETY_BUFFER_S,
      pendingWindowDays: s.config.KAKUNIN_KEY_DELETION_WINDOW_DAYS,
      actor: apiKeyActor(c.var.caller),
      adoptUntracked: body?.adopt_untracked === true,
    });
    if (report.superseded || report.certificate_keys) s.publisher?.kick();
    return c.json({ data: report }, 200);
  });
}
