import { z } from "zod";
import { MODEL_HASH_PATTERN, SERIAL_PATTERN } from "../schemas.ts";
import { scoringOverridesSchema, SENSITIVITIES } from "../tenant-scoring.ts";
import { refineWellFormed } from "../unicode.ts";

/**
 * Origin → edge: status records (certificates, agents, CRLs, tenant scoring) to store in KV, applied
 * in version order, and review feedback for an agent's monitor (not stored in KV).
 */
export const PUBLISH_PATH = "/internal/v1/publish";
/** The edge refuses a bigger batch with 413; the origin splits before it gets there. */
export const PUBLISH_MAX_BYTES = 8 * 1024 * 1024;
/** One CRL's base64 in a record. A bigger CRL is published in partitions (docs/crl-ocsp.md). */
export const CRL_FIELD_MAX_BYTES = 4 * 1024 * 1024;
export const PUBLISH_MAX_RECORDS = 5000;
/** A certificate record's revocation reason, in characters; the origin stores and publishes at most this (clampText). */
export const REVOCATION_REASON_MAX = 512;

/**
 * The publish contract moved to version 3 on its own (the other contracts stay at WIRE_VERSION):
 * v3 adds `partition` to CRL records (partitioned CRLs, docs/crl-ocsp.md). An edge on v2 would
 * strip the unknown member and store a partition's CRL over the issuer's full CRL, so a batch
 * holding a partition record is sent as v3 (an old edge answers 426 and the origin holds it), and
 * every other batch as v2, which both old and new edges take: the sender uses the lowest version
 * that expresses the batch. v1 and v2 have the same shape (v2 only named the version).
 */
export const PUBLISH_WIRE_VERSION = 3;
export const PUBLISH_ACCEPTED_WIRE_VERSIONS: readonly number[] = [1, 2, 3];

/** The lowest publish version that expresses these records. */
export function publishWireVersion(records: readonly { kind: string; partition?: number }[]): number {
  return records.some((r) => r.kind === "crl" && r.partition !== undefined) ? PUBLISH_WIRE_VERSION : 2;
}

// The edge validates what the origin sends too: a bug or a compromised secret must not be able to
// store arbitrary shapes that the hot path would then trust.
const iso = z.string().max(40);
const v = z.number().int().positive();
const uuid = z.string().regex(/^[0-9a-f-]{36}$/);
const agentStatus = z.enum(["active", "suspended", "retired"]);

export const certRecordSchema = z.object({
  kind: z.literal("cert"), v,
  serial_number: z.string().regex(SERIAL_PATTERN),
  certificate_id: uuid,
  status: z.enum(["active", "revoked", "superseded"]),
  agent_id: uuid, agent_urn: z.string().max(80), tenant_id: uuid, agent_status: agentStatus,
  model: z.object({ name: z.string().max(128), version: z.string().max(64), hash: z.string().regex(MODEL_HASH_PATTERN) }),
  scopes: z.array(z.string().max(128)).max(256),
  not_before: iso, not_after: iso,
  revoked_at: iso.nullable(), revocation_reason: z.string().max(REVOCATION_REASON_MAX).nullable(), revocation_code: z.string().max(40).nullable(),
  certificate_pem: z.string().max(16_384),
  /** A renewed certificate: valid until superseded_at, then superseded by superseded_by. */
  superseded_at: iso.nullable().optional(), superseded_by: z.string().regex(SERIAL_PATTERN).nullable().optional(),
  ocsp_b64: z.string().max(16_384).nullable(),
  /** The same status answering a SHA-256 CertID (absent from origins before 2026-12-07: ocsp_b64 then carries both CertIDs). */
  ocsp_sha256_b64: z.string().max(16_384).nullable().optional(),
});

export const agentRecordSchema = z.object({
  kind: z.literal("agent"), v, agent_id: uuid, tenant_id: uuid, status: agentStatus,
  current_serial: z.string().regex(SERIAL_PATTERN).nullable(),
  /** How strongly the tenant's scoring treats this agent's evidence (absent = normal). */
  sensitivity: z.enum(SENSITIVITIES).optional(),
  /** Its credentials revoked within a day: the edge refuses the ingest tokens they minted. */
  revoked_credentials: z.array(uuid).max(1000).optional(),
  /** Every ingest token issued at or before this (epoch seconds) is refused (more revocations in a day than listed). */
  tokens_issued_after: z.number().int().min(0).optional(),
});

/** A tenant's scoring overrides and shadow candidate (GET/PATCH /v1/tenant/scoring), at `scoring:<tenant>`. */
export const scoringRecordSchema = z.object({
  kind: z.literal("scoring"), v, tenant_id: uuid,
  scoring: scoringOverridesSchema.extend({
    shadow: scoringOverridesSchema.extend({ since: iso }).nullable().optional(),
  }),
});

/**
 * A review cleared an agent: its AgentMonitor accepts these events as normal (idempotent per review).
 * `accepted_until`: the newest alert the review closed; what the agent did after it was not reviewed
 * and keeps counting (absent from origins before it: everything is accepted, as they meant).
 * `accepted_features`: what those alerts were about; a drift reference or a woken tool the review
 * was not shown is not the review's to accept.
 */
export const feedbackRecordSchema = z.object({
  kind: z.literal("feedback"), v, tenant_id: uuid, agent_id: uuid, review_id: uuid,
  event_ids: z.array(z.string().max(128)).max(1000),
  accepted_until: iso.optional(),
  /** The reason features of the alerts the review closed: a clear accepts what they showed (absent: everything). */
  accepted_features: z.array(z.string().max(64)).max(64).optional(),
});

export const crlRecordSchema = z.object({
  kind: z.literal("crl"), v, tenant_id: z.union([uuid, z.literal("default"), z.literal("root")]),
  /** The issuing CA the CRL belongs to (a tenant has several after a rollover); absent = current. */
  issuer_serial: z.string().regex(SERIAL_PATTERN).optional(),
  /** v3: one partition of that issuer's CRL, at `/v1/crl/<tenant>/<issuer_serial>/<partition>`. */
  partition: z.number().int().min(0).max(1_000_000_000).optional(),
  crl_b64: z.string().max(CRL_FIELD_MAX_BYTES), this_update: iso, next_update: iso, chain_pem: z.string().max(32_768),
});

export const edgeRecordSchema = z.discriminatedUnion("kind", [
  certRecordSchema, agentRecordSchema, scoringRecordSchema, feedbackRecordSchema,
  crlRecordSchema.refine((r) => r.partition === undefined || r.issuer_serial !== undefined, { message: "a CRL partition names its issuer_serial", path: ["partition"] }),
]);

export const publishBatchSchema = z.object({
  wire_version: z.number().int().optional(),
  records: z.array(edgeRecordSchema).max(PUBLISH_MAX_RECORDS),
  /** The origin's epoch (shared/src/publish-epoch.ts); absent from origins older than epochs. */
  epoch: z.object({ n: z.number().int().min(0), id: z.string().max(64) }).optional(),
}).superRefine(refineWellFormed);

export const publishAckSchema = z.object({ applied: z.number().int(), stale: z.number().int() });
