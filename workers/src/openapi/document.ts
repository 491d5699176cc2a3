import { createRoute } from "@hono/zod-openapi";
import { SIG_HEADER } from "@kakunin/shared";
import { serve, type EdgeApp } from "../http/openapi.ts";
import { healthSchema } from "./schemas.ts";

export const OPENAPI_PATH = "/openapi.json";

export const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness: 200 when the Worker answers",
  tags: ["ops"],
  responses: { 200: { description: "Up", content: { "application/json": { schema: healthSchema } } } },
});

export function registerHealth(app: EdgeApp): void {
  serve(app, healthRoute, (c) => c.json({ status: "ok" as const }));
}

/**
 * Serves the OpenAPI 3.1 document built from every route registered so far; call last. The
 * document is generated on each request from the zod schemas, so it cannot drift from them.
 */
export function serveOpenApi(app: EdgeApp): void {
  const registry = app.openAPIRegistry;
  registry.registerComponent("securitySchemes", "ingestToken", {
    type: "http",
    scheme: "bearer",
    description: "An agent's ingest token, minted at the origin by POST /v1/agents/{id}/ingest-tokens (60 s – 24 h). "
      + "Valid only while the certificate it was minted under is the agent's current, active certificate.",
  });
  registry.registerComponent("securitySchemes", "signedInternal", {
    type: "apiKey",
    in: "header",
    name: SIG_HEADER,
    description: "Origin ⇄ edge calls only. HMAC-SHA256 with the shared KAKUNIN_EDGE_SECRET over "
      + "`METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nhex(SHA-256(body))`, sent as hex in `kakunin-signature`, with "
      + "`kakunin-timestamp` (Unix seconds, within ±300 s) and `kakunin-nonce` (never reused; a replay is refused).",
  });
  app.doc31(OPENAPI_PATH, {
    openapi: "3.1.0",
    info: {
      title: "Kakunin edge API",
      version: "1.0.0",
      description: "Verification, behaviour ingest, PKI (CA chain, CRL, OCSP) and DID resolution at the edge. "
        + "Errors are RFC 9457 application/problem+json.",
    },
    tags: [
      { name: "verification", description: "Certificate status for gateways (public)" },
      { name: "ingest", description: "Behaviour events and risk (ingest tokens)" },
      { name: "pki", description: "CA chain, CRL and OCSP for standard tooling (public)" },
      { name: "did", description: "did:kakunin resolution (public)" },
      { name: "ops", description: "Health" },
      { name: "admin", description: "Operator routes, signed like internal calls (KAKUNIN_EDGE_SECRET)" },
      { name: "internal", description: "Origin ⇄ edge and benchmark routes; not for clients" },
    ],
  });
}
