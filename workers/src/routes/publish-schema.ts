import { z } from "zod";
import { MODEL_HASH_PATTERN, SERIAL_PATTERN } from "@kakunin/shared";

// The edge validates what the origin sends too: a bug or a compromised secret must not be able to
// store arbitrary shapes that the hot path would then trust.
const iso = z.string().max(40);
const v = z.number().int().positive();
const uuid = z.string().regex(/^[0-9a-f-]{36}$/);
const agentStatus = z.enum(["active", "suspended", "retired"]);

const certRecord = z.object({
  kind: z.literal("cert"), v,
  serial_number: z.string().regex(SERIAL_PATTERN),
  certificate_id: uuid,
  status: z.enum(["active", "revoked", "superseded"]),
  agent_id: uuid, agent_urn: z.string().max(80), tenant_id: uuid, agent_status: agentStatus,
  model: z.object({ name: z.string().max(128), version: z.string().max(64), hash: z.string().regex(MODEL_HASH_PATTERN) }),
  scopes: z.array(z.string().max(128)).max(256),
  not_before: iso, not_after: iso,
  revoked_at: iso.nullable(), revocation_reason: z.string().max(512).nullable(), revocation_code: z.string().max(40).nullable(),
  certificate_pem: z.string().max(16_384),
  superseded_at: iso.nullable().optional(), superseded_by: z.string().regex(SERIAL_PATTERN).nullable().optional(),
  ocsp_b64: z.string().max(16_384).nullable(),
});

const agentRecord = z.object({
  kind: z.literal("agent"), v, agent_id: uuid, tenant_id: uuid, status: agentStatus,
  current_serial: z.string().regex(SERIAL_PATTERN).nullable(),
});

const crlRecord = z.object({
  kind: z.literal("crl"), v, tenant_id: z.union([uuid, z.literal("default")]),
  crl_b64: z.string().max(4 * 1024 * 1024), this_update: iso, next_update: iso, chain_pem: z.string().max(32_768),
});

export const publishBatchSchema = z.object({
  records: z.array(z.discriminatedUnion("kind", [certRecord, agentRecord, crlRecord])).max(5000),
});
