import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { displayName } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { apiKeyActor } from "../audit/types.ts";
import { createAgentCredential, type AgentCredentialRow } from "../lifecycle/agent-credentials.ts";
import { rfc3339 } from "../time.ts";
import { orThrow, parseOptionalJson } from "./fail.ts";
import { bearer, dataResponse, errorResponses, idParams } from "./openapi.ts";
import { emptyJsonIsNoBody } from "./optional-body.ts";

export const agentCredentialView = z.object({
  id: z.uuid(), agent_id: z.uuid(), name: z.string(), prefix: z.string(), created_at: z.string(), revoked_at: z.string().nullable(),
});

export function toAgentCredentialView(r: AgentCredentialRow): z.infer<typeof agentCredentialView> {
  return { id: r.id, agent_id: r.agentId, name: r.name, prefix: r.prefix, created_at: rfc3339(r.createdAt), revoked_at: rfc3339(r.revokedAt) };
}

const credentialRequest = z.strictObject({ name: displayName.optional() });
const DEFAULT_NAME = "agent credential";

export const route = createRoute({
  method: "post",
  path: "/v1/agents/{id}/credentials",
  summary: "Mint an agent credential (`kka_…`): it may sign as this agent and mint its ingest tokens, nothing else; shown once",
  security: bearer,
  middleware: [requireRole("admin", "issuer"), emptyJsonIsNoBody] as const,
  // The contract gives this route no body (`POST /v1/agents/:id/credentials` → 201 `{id, key, ...}`):
  // a bare POST mints one; `name` only labels it in lists.
  request: { params: idParams, body: { required: false, content: { "application/json": { schema: credentialRequest } } } },
  responses: { 201: dataResponse(agentCredentialView.extend({ key: z.string() }), "The new credential"), ...errorResponses(404, 409, 422) },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const caller = c.var.caller;
    const agentId = c.req.valid("param").id;
    const body = parseOptionalJson(await c.req.text(), credentialRequest);
    const { row, key } = orThrow(await createAgentCredential(c.var.services, {
      tenantId: caller.tenantId, agentId, name: body?.name ?? DEFAULT_NAME, createdBy: caller.keyId, actor: apiKeyActor(caller),
    }));
    return c.json({ data: { ...toAgentCredentialView(row), key } }, 201);
  });
}
