import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { ApiError, notFound } from "../http/api-error.ts";
import { replayDeadLetter } from "../lifecycle/dead-letters.ts";
import { bearer, dataResponse, errorResponses, idParams } from "./openapi.ts";
import { deadLetterView, toDeadLetterView } from "./v1_admin_dead_letters_list.ts";

export const route = createRoute({
  method: "post",
  path: "/v1/admin/dead-letters/{id}/replay",
  summary: "Try a dead letter again through the path it failed on (store the event, decide the alert, re-publish the record)",
  security: bearer,
  middleware: [requireRole("admin")] as const,
  request: { params: idParams },
  responses: {
    200: dataResponse(deadLetterView, "Replayed; `replay_result` says what happened"),
    ...errorResponses(404, 422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const { id } = c.req.valid("param");
    const r = await replayDeadLetter(c.var.services, c.var.caller.tenantId, id, apiKeyActor(c.var.caller));
    if (!r.ok && r.error.code === "not-found") throw notFound("dead letter", id);
    if (!r.ok) throw new ApiError("replay-failed", `Replay failed; the dead letter is kept: ${r.error.code === "still-failing" ? r.error.detail : ""}`);
    return c.json({ data: toDeadLetterView(r.value) }, 200);
  });
}
