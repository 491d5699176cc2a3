import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { agentCreateSchema } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { appendAudit } from "../audit/append.ts";
import { apiKeyActor } from "../audit/types.ts";
import { agents } from "../db/schema.ts";
import { agentView, toAgentView } from "../views/agent.ts";
import { bearer, dataResponse, errorResponses, jsonBody } from "./openapi.ts";

export const route = createRoute({
  method: "post",
  path: "/v1/agents",
  summary: "Register an agent",
  security: bearer,
  middleware: [requireRole("admin", "issuer")] as const,
  request: { body: jsonBody(agentCreateSchema) },
  responses: { 201: dataResponse(agentView, "The new agent, status active"), ...errorResponses(422) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const body = c.req.valid("json");
    const s = c.var.services;
    const now = s.clock.now();
    const row = await s.db.transaction(async (tx) => {
    const [inserted] = await tx.insert(agents).values({
      tenantId: c.var.caller.tenantId,
      name: body.name,
      modelName: body.model.name,
      modelVersion: body.model.version,
      modelHash: body.model.hash,
      ownerName: body.owner.name,
      ownerEmail: body.owner.email,
      // Stored de-duplicated, in the order given: scopes are a set.
      scopes: [...new Set(body.scopes)],
      createdAt: now,
      updatedAt: now,
    }).returning();
    await appendAudit(tx, c.var.caller.tenantId, [{
      kind: "agent.created", actor: apiKeyActor(c.var.caller), agentId: inserted!.id, at: now,
      data: { name: body.name, model: body.model, owner: body.owner, scopes: inserted!.scopes },
    }]);
    return inserted;
    });
    c.header("location", `/v1/agents/${row!.id}`);
    return c.json({ data: toAgentView(row!) }, 201);
  });
}
