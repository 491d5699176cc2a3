import { z } from "@hono/zod-openapi";
import { EVENT_TYPES, eventSchema, MAX_EVENTS_PER_BATCH, OUTCOMES } from "@kakunin/shared";

// Response shapes of the edge, for the OpenAPI document. The handlers build these from TypeScript
// types (VerifyResult, IngestOutcome, RiskView, DidDocument); workers/test/openapi.test.ts checks at
// compile time that those types conform to these schemas, and at run time that real answers parse.

const band = z.enum(["low", "medium", "high"]).openapi({ description: "low < 0.3 ≤ medium < 0.85 ≤ high" });
const score = z.number().min(0).max(1);
const rfc3339 = z.string().openapi({ format: "date-time" });

export const reasonSchema = z
  .object({ feature: z.string(), contribution: z.number().min(0).max(1), detail: z.string() })
  .openapi("ScoreReason", { description: "One feature's share of a score, for humans" });

export const modelSchema = z.object({ name: z.string(), version: z.string(), hash: z.string().openapi({ example: `sha256:${"ab".repeat(32)}` }) });

export const verifyReasonCodes = [
  "revoked", "superseded", "expired", "not_yet_valid", "agent_suspended", "agent_retired", "model_hash_mismatch", "scope_not_granted", "risk_too_high",
] as const;

export const verifyResultSchema = z
  .object({
    serial_number: z.string(),
    status: z.enum(["active", "revoked", "superseded", "expired"]).openapi({ description: "Computed at request time: an active certificate past not_after is expired; a renewed one past superseded_at is superseded (replaced by renewal, not revoked for cause)" }),
    valid: z.boolean().openapi({ description: "Active, inside its validity window, and every requested check holds" }),
    reasons: z.array(z.object({ code: z.enum(verifyReasonCodes), detail: z.string() })).openapi({ description: "Why `valid` is false; empty when valid" }),
    agent_id: z.string().openapi({ format: "uuid" }),
    agent_urn: z.string().openapi({ example: "urn:kakunin:agent:00000000-0000-4000-8000-000000000000" }),
    tenant_id: z.string().openapi({ format: "uuid" }),
    model: modelSchema,
    scopes: z.array(z.string()),
    not_before: rfc3339,
    not_after: rfc3339,
    revoked_at: rfc3339.nullable(),
    revocation_reason: z.string().nullable(),
    risk: z.object({ score, band }),
    checked_at: rfc3339,
    certificate_pem: z.string().optional().openapi({ description: "Only with `?include=certificate_pem`: the certificate, so a gateway can check the agent's signature (proof of possession) with one request" }),
    renew_after: rfc3339.optional().openapi({ description: "When the agent should renew: two thirds into the validity (step-ca's default renewal window)" }),
    expires_soon: z.boolean().optional().openapi({ description: "True from renew_after on while the certificate is still valid" }),
    superseded_at: rfc3339.nullable().optional().openapi({ description: "Renewed: valid until this instant, superseded afterwards" }),
    superseded_by: z.string().nullable().optional().openapi({ description: "Serial of the successor certificate" }),
  })
  .openapi("Verification");

export const agentEventSchema = eventSchema.openapi("AgentEvent", {
  description: `One behaviour event. type: ${EVENT_TYPES.join(" | ")}; outcome: ${OUTCOMES.join(" | ")}; attributes ≤ 8 KiB of JSON`,
});

export const eventsBodySchema = z
  .union([agentEventSchema, z.object({ events: z.array(agentEventSchema).min(1).max(MAX_EVENTS_PER_BATCH) }).strict()])
  .openapi("EventsBody", { description: "One event, or a batch of up to 1000; a batch with any invalid event is refused whole" });

export const ingestOutcomeSchema = z
  .object({
    accepted: z.number().int().min(0),
    duplicates: z.number().int().min(0).openapi({ description: "Events whose event_id was seen before; acknowledged, never counted twice" }),
    results: z.array(z.object({
      event_id: z.string(),
      score,
      band,
      reasons: z.array(reasonSchema),
      duplicate: z.literal(true).optional().openapi({ description: "Present on a duplicate; the score is the original one" }),
    })).openapi({ description: "One per event, in request order" }),
  })
  .openapi("IngestOutcome");

export const riskViewSchema = z
  .object({
    agent_id: z.string().openapi({ format: "uuid" }),
    score,
    band,
    reasons: z.array(reasonSchema).openapi({ description: "Top reasons of the score" }),
    events_scored: z.number().int().min(0),
    updated_at: rfc3339.nullable().openapi({ description: "When this edge last updated the risk: scored an event of the agent or applied a review (its own clock, not the times the agent claims for its events)" }),
  })
  .openapi("Risk");

export const didDocumentSchema = z
  .object({
    "@context": z.array(z.string()),
    id: z.string().openapi({ example: "did:kakunin:00000000-0000-4000-8000-000000000000" }),
    alsoKnownAs: z.array(z.string()),
    controller: z.string(),
    verificationMethod: z.array(z.object({
      id: z.string().openapi({ description: "<did>#<certificate serial>" }),
      type: z.literal("JsonWebKey2020"),
      controller: z.string(),
      publicKeyJwk: z.object({
        kty: z.string().optional(), n: z.string().optional(), e: z.string().optional(), alg: z.string().optional(), use: z.string().optional(),
        x5c: z.array(z.string()).openapi({ description: "The certificate (base64 DER), to chain to the Kakunin CA" }),
      }).openapi({ description: "RSA public key (JWK)" }),
    })),
    authentication: z.array(z.string()),
    assertionMethod: z.array(z.string()),
  })
  .openapi("DidDocument");

export const didResolutionSchema = z
  .object({
    "@context": z.literal("https://w3id.org/did-resolution/v1"),
    didDocument: didDocumentSchema.nullable().openapi({ description: "null once deactivated" }),
    didResolutionMetadata: z.object({ contentType: z.literal("application/did+json") }),
    didDocumentMetadata: z.object({ deactivated: z.boolean(), versionId: z.string().optional().openapi({ description: "Serial of the current certificate" }) }),
  })
  .openapi("DidResolution");

export const publishAckSchema = z.object({
  applied: z.number().int().min(0),
  stale: z.number().int().min(0),
  stale_keys: z.array(z.string()).optional(),
  head: z.object({ epoch: z.object({ n: z.number().int(), id: z.string() }), max_v: z.number().int() }).optional(),
}).openapi("PublishAck");

export const healthSchema = z.object({ status: z.literal("ok") });
