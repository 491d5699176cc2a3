import { randomUUID } from "node:crypto";
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { and, eq } from "drizzle-orm";
import { mintIngestToken } from "@kakunin/shared";
import type { AppEnv } from "../app-env.ts";
import { requireRole } from "../auth/authenticate.ts";
import { agents } from "../db/schema.ts";
import { ApiError, notFound } from "../http/api-error.ts";
import { appendAudit } from "../audit/append.ts";
import { apiKeyActor } from "../audit/types.ts";
import { activeCertificate } from "../lifecycle/revoke.ts";
import { recordMinter } from "../lifecycle/ingest-token-minters.ts";
import { awaitPublished } from "../publish/await-published.ts";
import { rfc3339 } from "../time.ts";
import { bearer, dataResponse, errorResponses, idParams } from "./openapi.ts";
import { emptyJsonIsNoBody } from "./optional-body.ts";

const DEFAULT_TTL_S = 3600;

export const tokenRequest = z.strictObject({
  /** Lifetime in seconds: 1 minute to 24 hours (default 1 hour). */
  ttl_seconds: z.number().int().min(60).max(86_400).optional(),
});

export const route = createRoute({
  method: "post",
  path: "/v1/agents/{id}/ingest-tokens",
  summary: "Mint a short-lived token the agent uses to post behaviour events to the edge",
  security: bearer,
  // An agent credential may use this route for its own agent (requireRole checks the :id).
  middleware: [requireRole("admin", "issuer", "agent"), emptyJsonIsNoBody] as const,
  request: { params: idParams, body: { required: false, content: { "application/json": { schema: tokenRequest } } } },
  responses: {
    201: dataResponse(z.object({ token: z.string(), expires_at: z.string(), agent_id: z.uuid(), serial_number: z.string() }), "The token (shown once)"),
    ...errorResponses(404, 409, 422),
  },
});

export function register(app: OpenAPIHono<AppEnv>): void {
  app.openapi(route, async (c) => {
    const s = c.var.services;
    const { id } = c.req.valid("param");
    // The body is optional: a bare POST mints a token with the default lifetime.
    const raw = await c.req.text();
    let ttl = DEFAULT_TTL_S;
    if (raw.trim() !== "") {
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        throw new ApiError("malformed-json", "The request body is not valid JSON.");
      }
      const parsed = tokenRequest.safeParse(json);
      if (!parsed.success) {
        throw new ApiError("validation-failed", `${parsed.error.issues.length} invalid field(s) in the request body`, {
          errors: parsed.error.issues.map((i) => ({ path: i.path.join(".") || "(body)", message: i.message })),
        });
      }
      ttl = parsed.data.ttl_seconds ?? DEFAULT_TTL_S;
    }
    const [agent] = await s.db.select().from(agents).where(and(eq(agents.id, id), eq(agents.tenantId, c.var.caller.tenantId)));
    if (!agent) throw notFound("agent", id);
    // Final, as certify, renew and credentials answer: "certify it first" would lead to another refusal.
    if (agent.status === "retired") throw new ApiError("agent-retired", `agent ${id} is retired; it gets no ingest tokens`);
    const now = s.clock.now();
    const cert = await activeCertificate(s.db, id, now);
    if (!cert) throw new ApiError("no-active-certificate", `agent ${id} has no active certificate; certify it first`);
    const iat = Math.floor(now.getTime() / 1000);
    // Never outlive the certificate the token speaks for.
    const exp = Math.min(iat + ttl, Math.floor(cert.expiresAt.getTime() / 1000));
    const jti = randomUUID();
    const caller = c.var.caller;
    // The token names what minted it, so revoking that credential or API key voids the token too.
    const minter = caller.role === "agent" ? { cred: caller.keyId } : { key: caller.keyId };
    const token = await mintIngestToken(s.edgeSecret, { agent_id: id, tenant_id: agent.tenantId, serial: cert.serialNumber, iat, exp, jti, ...minter });
    await s.db.transaction(async (tx) => {
      if (caller.role !== "agent" && !(await recordMinter(tx, caller.keyId, id, new Date(exp * 1000)))) {
        throw new ApiError("unauthorized", "The API key was revoked.");
      }
      await appendAudit(tx, agent.tenantId, [{
        kind: "ingest_token.issued", actor: apiKeyActor(caller), agentId: id, at: now,
        data: { jti, serial_number: cert.serialNumber, expires_at: new Date(exp * 1000).toISOString() },
      }]);
    });
    // The edge refuses events for a certificate it has not received yet (503, Retry-After), and
    // certify answers before the publisher delivered it: an agent that certifies, mints a token and
    // posts at once was refused. Wait (bounded) for the edge to hold the certificate, so the token
    // works when it is handed out; with the edge unreachable it is handed out anyway.
    await awaitPublished(s, "cert", cert.serialNumber);
    return c.json({ data: { token, expires_at: rfc3339(new Date(exp * 1000)), agent_id: id, serial_number: cert.serialNumber } }, 201);
  });
}
