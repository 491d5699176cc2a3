import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AgentRecord, CertStatusRecord } from "@kakunin/shared";
import type { EdgeEnv } from "../app-env.ts";
import { didDocument } from "../did/document.ts";
import { cacheControl, problemResponses, serve, STORE_UNAVAILABLE, type EdgeApp } from "../http/openapi.ts";
import { edgeProblem } from "../http/problems.ts";
import { fromStore } from "../http/store-unavailable.ts";
import { didDocumentSchema, didResolutionSchema } from "../openapi/schemas.ts";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * DID resolution for did:kakunin. `/v1/did/did:kakunin:<id>` answers a W3C DID resolution result
 * (document + metadata; `deactivated` once the agent has no valid certificate);
 * `/v1/agents/:id/did.json` the bare document.
 */
export const resolveRoute = createRoute({
  method: "get",
  path: "/v1/did/{did}",
  summary: "Resolve a did:kakunin DID (W3C DID resolution result)",
  tags: ["did"],
  request: { params: z.object({ did: z.string().openapi({ example: "did:kakunin:00000000-0000-4000-8000-000000000000" }) }) },
  responses: {
    200: {
      description: "Resolution result; `deactivated` (and no document) once the agent has no valid certificate",
      headers: z.object({ "cache-control": cacheControl }),
      content: { "application/did+ld+json": { schema: didResolutionSchema } },
    },
    ...problemResponses({ 404: "Not a did:kakunin DID, or no such agent", 503: STORE_UNAVAILABLE }),
  },
});

export const documentRoute = createRoute({
  method: "get",
  path: "/v1/agents/{id}/did.json",
  summary: "The bare DID document of an agent with an active certificate",
  tags: ["did"],
  request: { params: z.object({ id: z.uuid().openapi({ description: "Agent id" }) }) },
  responses: {
    200: {
      description: "DID document: the current certificate's key as a JsonWebKey2020 verification method",
      headers: z.object({ "cache-control": cacheControl }),
      content: { "application/did+json": { schema: didDocumentSchema } },
    },
    ...problemResponses({ 404: "No such agent, or its DID is deactivated (no active certificate)", 503: STORE_UNAVAILABLE }),
  },
});

export function register(app: EdgeApp): void {
  const resolve = async (c: Context<EdgeEnv>, agentId: string) => {
    if (!UUID.test(agentId)) return { error: edgeProblem(c, "not-found", `No agent ${agentId}.`) };
    const agentRaw = await fromStore("status store", () => c.env.CERT_STATUS.get(`agent:${agentId}`));
    if (!agentRaw) return { error: edgeProblem(c, "not-found", `No agent ${agentId}.`) };
    const agent = JSON.parse(agentRaw) as AgentRecord;
    const serial = agent.current_serial;
    const certRaw = serial ? await fromStore("status store", () => c.env.CERT_STATUS.get(`cert:${serial}`)) : null;
    const cert = certRaw ? (JSON.parse(certRaw) as CertStatusRecord) : undefined;
    const live = cert && cert.status === "active" && Date.now() < Date.parse(cert.not_after) && agent.status === "active";
    const doc = cert ? await didDocument(agentId, cert.serial_number, cert.certificate_pem) : undefined;
    return { agent, cert, live: Boolean(live), doc };
  };

  serve(app, resolveRoute, async (c) => {
    const m = /^did:kakunin:(.+)$/.exec(c.req.param("did"));
    if (!m) return edgeProblem(c, "not-found", "Only did:kakunin DIDs resolve here.");
    const r = await resolve(c, m[1]!);
    if ("error" in r) return r.error;
    return c.json({
      "@context": "https://w3id.org/did-resolution/v1",
      didDocument: r.live ? r.doc ?? null : null,
      didResolutionMetadata: { contentType: "application/did+json" },
      didDocumentMetadata: { deactivated: !r.live, ...(r.cert ? { versionId: r.cert.serial_number } : {}) },
    }, 200, { "content-type": "application/did+ld+json", "cache-control": "public, max-age=2" });
  });

  serve(app, documentRoute, async (c) => {
    // A UUID is the same id in any case (RFC 9562; README): the document is the lower-case agent's.
    const id = c.req.param("id").toLowerCase();
    const r = await resolve(c, id);
    if ("error" in r) return r.error;
    if (!r.live || !r.doc) return edgeProblem(c, "not-found", `Agent ${id} has no active certificate; its DID is deactivated.`);
    return c.json(r.doc, 200, { "content-type": "application/did+json", "cache-control": "public, max-age=2" });
  });
}
