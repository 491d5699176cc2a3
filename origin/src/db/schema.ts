import { sql } from "drizzle-orm";
import { CRL_REASONS, type ShadowVerdict, type TenantScoring } from "@kakunin/shared";
import {
  bigint, bigserial, boolean, check, customType, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid,
} from "drizzle-orm/pg-core";

const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => "bytea",
  // node-postgres returns a Buffer (a Uint8Array subclass); PGlite returns Uint8Array. Normalise.
  fromDriver: (v) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength),
});

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export interface TenantPolicy {
  auto_revoke: boolean;
  /** How long a renewed certificate stays valid beside its successor (absent: the origin's default). */
  renewal_overlap_seconds?: number;
}

export const tenants = pgTable("tenants", {
  id: uuid("id").primaryKey().defaultRandom(),
  /** Monotonic CRL number of the tenant's issuing CA (RFC 5280 §5.2.3). */
  crlNumber: bigint("crl_number", { mode: "bigint" }).notNull().default(sql`0`),
  name: text("name").notNull().unique(),
  /** The operator tenant (`default`) may create other tenants. */
  isOperator: boolean("is_operator").notNull().default(false),
  policy: jsonb("policy").$type<TenantPolicy>().notNull().default({ auto_revoke: true }),
  /** Scoring overrides (thresholds, weights) and an optional shadow candidate; published to the edge. */
  scoring: jsonb("scoring").$type<TenantScoring>().notNull().default({}),
  createdAt: ts("created_at").notNull().defaultNow(),
});

export const apiKeys = pgTable(
  "api_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    name: text("name").notNull(),
    role: text("role", { enum: ["admin", "issuer", "auditor"] }).notNull(),
    /** SHA-256 of the whole key; keys carry 256 bits of entropy, so no slow hash is needed. */
    keyHash: text("key_hash").notNull().unique(),
    /** First characters of the key, shown in listings so a human can tell keys apart. */
    prefix: text("prefix").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    revokedAt: ts("revoked_at"),
    /**
     * Rows the origin itself manages at start: `init_token` (the one-time `kakunin init` token,
     * stored revoked) and `env_admin_key` (KAKUNIN_ADMIN_KEY). Null for every key made through the
     * API. Bootstrap code touches only flagged rows: a display name identifies nothing.
     */
    bootstrap: text("bootstrap", { enum: ["init_token", "env_admin_key"] }),
  },
  (t) => [
    index("api_keys_tenant_idx").on(t.tenantId),
    check("api_keys_role_chk", sql`${t.role} in ('admin','issuer','auditor')`),
    check("api_keys_bootstrap_chk", sql`${t.bootstrap} is null or ${t.bootstrap} in ('init_token','env_admin_key')`),
  ],
);

/**
 * Agent credentials: bearer keys bound to one agent (not to a certificate, so they keep working
 * across renewals). They may sign as that agent, mint its ingest tokens and nothing else; see
 * origin/src/auth/authenticate.ts. Stored as SHA-256 like API keys.
 */
export const agentCredentials = pgTable(
  "agent_credentials",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    agentId: uuid("agent_id").notNull().references(() => agents.id),
    name: text("name").notNull(),
    keyHash: text("key_hash").notNull().unique(),
    prefix: text("prefix").notNull(),
    /** The API key that minted it (admin or issuer). */
    createdBy: uuid("created_by").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    revokedAt: ts("revoked_at"),
  },
  (t) => [index("agent_credentials_agent_idx").on(t.agentId, t.createdAt)],
);

/**
 * Which API key minted ingest tokens for which agent, and until when the newest of them lives. An
 * ingest token is verified at the edge without the origin, so revoking an API key must tell the
 * edge, through these agents' records, to refuse the tokens it minted (as revoking an agent
 * credential does). One row per key and agent (upserted per mint); the refresher deletes rows whose
 * tokens have all expired.
 */
export const ingestTokenMinters = pgTable(
  "ingest_token_minters",
  {
    apiKeyId: uuid("api_key_id").notNull().references(() => apiKeys.id),
    agentId: uuid("agent_id").notNull().references(() => agents.id),
    expiresAt: ts("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.apiKeyId, t.agentId] }), index("ingest_token_minters_agent_idx").on(t.agentId)],
);

/** Certificate authorities: one root (tenant_id null) and one issuing CA per tenant. */
export const authorities = pgTable(
  "authorities",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").references(() => tenants.id),
    /**
     * `tree_head_signer` is the tenant's tree-head signing key: certified by its issuing CA with the
     * audit EKU and the tenant binding (docs/certificate-profile.md). `audit` is its predecessor
     * without either, kept because the tree heads it signed reference it; it signs nothing new.
     */
    kind: text("kind", { enum: ["root", "issuing", "audit", "tree_head_signer"] }).notNull(),
    serialNumber: text("serial_number").notNull().unique(),
    subject: text("subject").notNull(),
    certificatePem: text("certificate_pem").notNull(),
    keyRef: text("key_ref").notNull(),
    notBefore: ts("not_before").notNull(),
    notAfter: ts("not_after").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    /** The authority that signed this certificate (set for tree-head signers: one per issuing CA). */
    issuerAuthorityId: uuid("issuer_authority_id"),
    /**
     * `retired`: replaced by a CA rollover (docs/ca-lifecycle.md). A retired issuing CA signs no new
     * certificate but keeps signing CRLs and OCSP responses for the ones it issued.
     */
    status: text("status", { enum: ["active", "retired"] }).notNull().default("active"),
    retiredAt: ts("retired_at"),
    /**
     * Certificates this CA has been asked to sign (an atomic counter, gaps allowed): the n-th goes to
     * CRL partition floor((n-1) / CRL_PARTITION_SIZE), so no partition CRL can outgrow its limit.
     */
    issuedCount: bigint("issued_count", { mode: "number" }).notNull().default(0),
  },
  (t) => [
    // Exactly one root and one active issuing CA per tenant, even if two origins start (or roll over) at once.
    uniqueIndex("authorities_one_root").on(t.kind).where(sql`${t.kind} = 'root'`),
    uniqueIndex("authorities_one_issuing_per_tenant").on(t.tenantId).where(sql`${t.kind} = 'issuing' and ${t.status} = 'active'`),
    uniqueIndex("authorities_one_audit_per_tenant").on(t.tenantId).where(sql`${t.kind} = 'audit'`),
    // One tree-head signer per issuing CA: a rolled-over issuing CA gets its own.
    uniqueIndex("authorities_one_tree_head_signer_per_issuer").on(t.issuerAuthorityId).where(sql`${t.kind} = 'tree_head_signer'`),
  ],
);

/**
 * Offline-root mode (docs/ca-lifecycle.md): a certificate signing request for a new issuing CA,
 * whose key the origin created in its KeyManager and whose certificate an operator signs offline
 * with the root. `pending` until the signed certificate is imported (then `imported`, with the
 * authority it became). Its key is referenced here, so tidy never mistakes it for an orphan.
 */
export const caRequests = pgTable(
  "ca_requests",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    keyRef: text("key_ref").notNull().unique(),
    /** The requested subject's generation (`G<n>`), as rollover names it. */
    generation: integer("generation").notNull(),
    csrPem: text("csr_pem").notNull(),
    status: text("status", { enum: ["pending", "imported"] }).notNull().default("pending"),
    createdAt: ts("created_at").notNull().defaultNow(),
    importedAt: ts("imported_at"),
    authorityId: uuid("authority_id"),
  },
  // One pending request per tenant: asking again returns it (the operator may have lost the file).
  (t) => [uniqueIndex("ca_requests_one_pending_per_tenant").on(t.tenantId).where(sql`${t.status} = 'pending'`)],
);

/**
 * The root's CRL (ARL) in offline-root mode: signed offline by the operator and uploaded; the
 * origin only forwards the newest (highest CRL number) to the edge.
 */
export const rootCrls = pgTable("root_crls", {
  crlNumber: bigint("crl_number", { mode: "bigint" }).primaryKey(),
  der: bytea("der").notNull(),
  thisUpdate: ts("this_update").notNull(),
  nextUpdate: ts("next_update").notNull(),
  uploadedAt: ts("uploaded_at").notNull().defaultNow(),
});

export const agents = pgTable(
  "agents",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    name: text("name").notNull(),
    modelName: text("model_name").notNull(),
    modelVersion: text("model_version").notNull(),
    modelHash: text("model_hash").notNull(),
    ownerName: text("owner_name").notNull(),
    ownerEmail: text("owner_email").notNull(),
    scopes: jsonb("scopes").$type<string[]>().notNull(),
    status: text("status", { enum: ["active", "suspended", "retired"] }).notNull().default("active"),
    /** Set when the risk reached high under a policy that flags instead of revoking. */
    reviewRequestedAt: ts("review_requested_at"),
    /** How strongly the scorer treats this agent's evidence (PATCH /v1/agents/:id). */
    sensitivity: text("sensitivity", { enum: ["low", "normal", "high"] }).notNull().default("normal"),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("agents_tenant_page_idx").on(t.tenantId, t.createdAt, t.id),
    check("agents_status_chk", sql`${t.status} in ('active','suspended','retired')`),
  ],
);

export const certificates = pgTable(
  "certificates",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    agentId: uuid("agent_id").notNull().references(() => agents.id),
    issuerId: uuid("issuer_id").notNull().references(() => authorities.id),
    serialNumber: text("serial_number").notNull().unique(),
    certificatePem: text("certificate_pem").notNull(),
    keyRef: text("key_ref").notNull(),
    modelName: text("model_name").notNull(),
    modelVersion: text("model_version").notNull(),
    modelHash: text("model_hash").notNull(),
    /**
     * Stored status; `expired` is also derived at read time from expires_at. `active` is the
     * agent's primary certificate; `renewed` is its predecessor during a renewal overlap (valid
     * until superseded_at), which becomes `superseded` (also derived at read time) afterwards.
     */
    status: text("status", { enum: ["active", "renewed", "superseded", "revoked", "expired"] }).notNull().default("active"),
    issuedAt: ts("issued_at").notNull(),
    expiresAt: ts("expires_at").notNull(),
    revokedAt: ts("revoked_at"),
    revocationReason: text("revocation_reason"),
    /** RFC 5280 CRLReason code, for CRL and OCSP. */
    revocationCode: text("revocation_code", { enum: CRL_REASONS }),
    /** producedAt of the last pre-signed OCSP response published for this certificate. */
    ocspProducedAt: ts("ocsp_produced_at"),
    /** End of the renewal overlap: from this instant the certificate is superseded (CRL reason 4). */
    supersededAt: ts("superseded_at"),
    /** Serial of the successor issued by the renewal. */
    supersededBy: text("superseded_by"),
    /**
     * The CRL partition named in this certificate's CRL Distribution Point (docs/crl-ocsp.md). Null:
     * issued before partitions, its CDP is the issuer's full-CRL URL.
     */
    crlPartition: integer("crl_partition"),
  },
  (t) => [
    // The invariant "one active certificate per agent" lives in the database, not only in code.
    uniqueIndex("certificates_one_active_per_agent").on(t.agentId).where(sql`${t.status} = 'active'`),
    // A renewal overlap has exactly one predecessor: renewing again ends the earlier overlap first.
    uniqueIndex("certificates_one_renewed_per_agent").on(t.agentId).where(sql`${t.status} = 'renewed'`),
    index("certificates_agent_idx").on(t.agentId, t.issuedAt),
    index("certificates_expiry_idx").on(t.tenantId, t.expiresAt).where(sql`${t.status} = 'active'`),
    // A CRL partition's certificates: what its CRL lists, whether it has any (first issuance, live partitions).
    index("certificates_crl_partition_idx").on(t.issuerId, t.crlPartition),
    check("certificates_status_chk", sql`${t.status} in ('active','renewed','superseded','revoked','expired')`),
    // A predecessor always says until when it overlaps and who succeeded it.
    check("certificates_superseded_chk", sql`${t.status} not in ('renewed','superseded') or (${t.supersededAt} is not null and ${t.supersededBy} is not null)`),
  ],
);

/** Private keys of the `local` KeyManager, encrypted with the master key (AES-256-GCM). */
export const localKeys = pgTable("local_keys", {
  id: uuid("id").primaryKey(),
  label: text("label").notNull(),
  publicKeySpki: bytea("public_key_spki").notNull(),
  /** iv (12 bytes) || ciphertext+tag of the PKCS#8 private key; AAD is the key id. */
  sealedPrivateKey: bytea("sealed_private_key").notNull(),
  /** Generated ahead of demand and not yet handed out (see createLocalKeyManager). */
  pooled: boolean("pooled").notNull().default(false),
  createdAt: ts("created_at").notNull().defaultNow(),
}, (t) => [index("local_keys_pool_idx").on(t.createdAt).where(sql`${t.pooled}`)]);

/**
 * Every key Kakunin asks a KeyManager to create, recorded BEFORE the backend call (an intent), so a
 * crash between CreateKey and the commit that references the key leaves a row the tidy job finds.
 * Deletion is recorded the same way (`deleting` before ScheduleKeyDeletion / C_DestroyObject), so
 * a tidy interrupted half-way resumes where it stopped. The id is also written onto the backend
 * key (AWS tag `kakunin:intent`, PKCS#11 CKA_ID, local key id) so a key whose ref never reached the
 * database is still found.
 */
export const managedKeys = pgTable(
  "managed_keys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").references(() => tenants.id),
    purpose: text("purpose", { enum: ["agent", "root", "issuing", "audit", "unknown"] }).notNull(),
    backend: text("backend", { enum: ["local", "aws-kms", "pkcs11"] }).notNull(),
    label: text("label").notNull(),
    /** Null until the backend answered with the key's reference. */
    keyRef: text("key_ref").unique(),
    state: text("state", { enum: ["creating", "created", "deleting", "deleted", "abandoned"] }).notNull().default("creating"),
    createdAt: ts("created_at").notNull().defaultNow(),
    deleteReason: text("delete_reason"),
    deletionRequestedAt: ts("deletion_requested_at"),
    deletedAt: ts("deleted_at"),
    /** When the backend destroys the key for good (AWS: end of the pending window). */
    deletionDate: ts("deletion_date"),
    attempts: integer("attempts").notNull().default(0),
  },
  (t) => [
    index("managed_keys_open_idx").on(t.state, t.createdAt).where(sql`${t.state} in ('creating','created','deleting')`),
    check("managed_keys_state_chk", sql`${t.state} in ('creating','created','deleting','deleted','abandoned')`),
  ],
);

/**
 * Transactional outbox: every change the edge must learn about (issuance, revocation, suspension,
 * scope change, CRL) is a row written in the same transaction as the change itself. The publisher
 * delivers the *current* state of each subject with `v = seq`, so delivery is idempotent, retries
 * are safe, and the edge can discard anything older than what it holds.
 */
export const outbox = pgTable(
  "outbox",
  {
    seq: bigserial("seq", { mode: "number" }).primaryKey(),
    kind: text("kind", { enum: ["cert", "agent", "crl", "scoring", "feedback"] }).notNull(),
    /** Serial number, agent id, tenant id (crl, scoring) or review id (feedback). */
    subject: text("subject").notNull(),
    createdAt: ts("created_at").notNull().defaultNow(),
    deliveredAt: ts("delivered_at"),
    attempts: integer("attempts").notNull().default(0),
    /** Publish lease: several origins share the outbox; a row is sent by one of them at a time. */
    claimedUntil: ts("claimed_until"),
    claimedBy: text("claimed_by"),
    /**
     * Queued by bulk upkeep (the OCSP/CRL refresher, a resync, re-signing owed after a KMS outage),
     * not by a change someone made: published after every pending change, so a revocation never
     * waits behind thousands of refreshed OCSP responses.
     */
    background: boolean("background").notNull().default(false),
  },
  (t) => [
    index("outbox_pending_idx").on(t.seq).where(sql`${t.deliveredAt} is null`),
    // The publisher's claim order: changes first, then upkeep, each oldest first.
    index("outbox_claim_idx").on(t.background, t.seq).where(sql`${t.deliveredAt} is null`),
    // A subject's deliveries (the console's revocation propagation: first delivery after revoked_at),
    // without a scan of the whole table per revoked certificate.
    index("outbox_subject_idx").on(t.kind, t.subject, t.deliveredAt),
  ],
);

/**
 * One row per published subject, and the lock that orders its versions. `enqueue` takes this row's
 * lock (an upsert) *before* drawing the version from the outbox sequence, inside the transaction
 * that changed the subject: two writers of one subject commit in version order, so a record read
 * after version v was committed always carries every change numbered below v.
 */
export const publishSubjects = pgTable(
  "publish_subjects",
  {
    kind: text("kind", { enum: ["cert", "agent", "crl", "scoring", "feedback"] }).notNull(),
    subject: text("subject").notNull(),
    /** The newest version drawn for this subject. */
    v: bigint("v", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.subject] })],
);

/**
 * The origin epoch (one row). Versions are only comparable within an epoch: a database restored
 * from a dump, or a new database behind an edge that already holds records, starts a new epoch
 * (higher `n`, fresh random `epoch_id`), which the edge accepts over anything it holds, and the
 * origin re-publishes every subject (see docs/reliability.md).
 */
export const originEpoch = pgTable(
  "origin_epoch",
  {
    id: integer("id").primaryKey().default(1),
    n: bigint("n", { mode: "number" }).notNull(),
    epochId: text("epoch_id").notNull(),
    startedAt: ts("started_at").notNull().defaultNow(),
    /** Why this epoch began (first start, restore detected, new database), for operators. */
    reason: text("reason").notNull(),
  },
  (t) => [check("origin_epoch_single_row", sql`${t.id} = 1`)],
);

/** Every accepted behaviour event with the edge's score, forwarded by the agent's monitor. */
export const agentEvents = pgTable(
  "agent_events",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    agentId: uuid("agent_id").notNull().references(() => agents.id),
    eventId: text("event_id").notNull(),
    occurredAt: ts("occurred_at").notNull(),
    type: text("type").notNull(),
    action: text("action").notNull(),
    /** The event as the agent sent it (canonical source for audit). */
    event: jsonb("event").$type<Record<string, unknown>>().notNull(),
    score: doublePrecision("score").notNull(),
    band: text("band", { enum: ["low", "medium", "high"] }).notNull(),
    reasons: jsonb("reasons").$type<{ feature: string; contribution: number; detail: string }[]>().notNull(),
    /** Serial of the certificate the ingest token was minted under. */
    serialNumber: text("serial_number").notNull(),
    /** What the tenant's shadow candidate would have said, when it differs from the active verdict. */
    shadow: jsonb("shadow").$type<ShadowVerdict>(),
    receivedAt: ts("received_at").notNull(),
    storedAt: ts("stored_at").notNull().defaultNow(),
  },
  (t) => [
    // Exactly once: a re-forwarded batch inserts nothing new.
    uniqueIndex("agent_events_once").on(t.agentId, t.eventId),
    index("agent_events_agent_time_idx").on(t.agentId, t.occurredAt),
    // An agent's latest events are the last the edge received (the console's band, sparkline and
    // latest events): the claimed time is the agent's to choose, up to 30 days back.
    index("agent_events_agent_received_idx").on(t.agentId, t.receivedAt),
    // The shadow report reads only events the candidate re-banded, since it was set (a small share).
    index("agent_events_shadow_idx").on(t.tenantId, t.receivedAt).where(sql`${t.shadow} is not null`),
  ],
);

/** What the origin decided when an agent's risk reached high (revoked, or flagged for review). */
export const riskDecisions = pgTable("risk_decisions", {
  id: uuid("id").primaryKey().defaultRandom(),
  /** The monitor's alert id: a retried alert is decided once. */
  alertId: text("alert_id").notNull().unique(),
  tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
  agentId: uuid("agent_id").notNull().references(() => agents.id),
  serialNumber: text("serial_number").notNull(),
  score: doublePrecision("score").notNull(),
  decision: text("decision", { enum: ["revoked", "flagged", "already_revoked", "no_active_certificate"] }).notNull(),
  autoRevoke: boolean("auto_revoke").notNull(),
  reasons: jsonb("reasons").$type<{ feature: string; contribution: number; detail: string }[]>().notNull(),
  eventIds: jsonb("event_ids").$type<string[]>().notNull(),
  triggeredAt: ts("triggered_at").notNull(),
  decidedAt: ts("decided_at").notNull().defaultNow(),
  /** The human review that closed this decision (POST /v1/agents/:id/review); null while it awaits one. */
  reviewId: uuid("review_id"),
}, (t) => [index("risk_decisions_open_idx").on(t.tenantId, t.agentId).where(sql`${t.reviewId} is null and ${t.decision} in ('revoked','flagged')`)]);

/** A human decision on a flagged or auto-revoked agent. */
export const reviews = pgTable("reviews", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
  agentId: uuid("agent_id").notNull().references(() => agents.id),
  decision: text("decision", { enum: ["clear", "revoke", "reinstate"] }).notNull(),
  reason: text("reason").notNull(),
  /** API key id of the admin who decided. */
  decidedBy: text("decided_by").notNull(),
  eventIds: jsonb("event_ids").$type<string[]>().notNull(),
  decidedAt: ts("decided_at").notNull(),
}, (t) => [index("reviews_agent_idx").on(t.agentId, t.decidedAt)]);

/** Outbound webhook endpoints of a tenant. */
export const webhookEndpoints = pgTable("webhook_endpoints", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
  url: text("url").notNull(),
  /** Event types sent to this endpoint (empty = all). */
  eventTypes: jsonb("event_types").$type<string[]>().notNull().default([]),
  /** HMAC-SHA256 signing secret (base64) and its id, sent as `keyid` in the signature header. */
  secret: text("secret").notNull(),
  keyId: text("key_id").notNull(),
  description: text("description"),
  createdAt: ts("created_at").notNull(),
  disabledAt: ts("disabled_at"),
}, (t) => [index("webhook_endpoints_tenant_idx").on(t.tenantId, t.createdAt)]);

/**
 * Durable webhook queue, one row per (event, endpoint), written in the same transaction as the
 * state change it reports. `payload.id` is the CloudEvents id, one per event and shared by the
 * endpoints it went to (receivers dedupe on it); `id` is this delivery's, named by replay.
 */
export const webhookDeliveries = pgTable("webhook_deliveries", {
  id: uuid("id").primaryKey().defaultRandom(),
  tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
  endpointId: uuid("endpoint_id").notNull().references(() => webhookEndpoints.id),
  eventType: text("event_type").notNull(),
  agentId: uuid("agent_id"),
  /** The CloudEvents envelope, exactly as sent on every attempt. */
  payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
  status: text("status", { enum: ["pending", "delivered", "dead"] }).notNull().default("pending"),
  attempts: integer("attempts").notNull().default(0),
  nextAttemptAt: ts("next_attempt_at").notNull(),
  /** Lease so that one origin at a time sends a delivery. */
  claimedUntil: ts("claimed_until"),
  /**
   * The origin holding the lease (its instance id: host + data dir + port). The same origin
   * restarted after a crash takes back what it held at once instead of waiting out the lease.
   */
  claimedBy: text("claimed_by"),
  lastStatus: integer("last_status"),
  lastError: text("last_error"),
  createdAt: ts("created_at").notNull(),
  deliveredAt: ts("delivered_at"),
}, (t) => [
  index("webhook_deliveries_endpoint_idx").on(t.endpointId, t.createdAt),
  /**
   * Each endpoint's oldest due deliveries (the dispatcher's round robin reads them per endpoint). It
   * replaced a global due-order index (dropped in 0020) that nothing read once the passes went fair.
   */
  index("webhook_deliveries_endpoint_due_idx").on(t.endpointId, t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
]);

/** Every delivery attempt: the per-endpoint delivery log. */
export const webhookAttempts = pgTable("webhook_attempts", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  deliveryId: uuid("delivery_id").notNull().references(() => webhookDeliveries.id),
  endpointId: uuid("endpoint_id").notNull().references(() => webhookEndpoints.id),
  attempt: integer("attempt").notNull(),
  at: ts("at").notNull(),
  status: integer("status"),
  error: text("error"),
  durationMs: integer("duration_ms").notNull(),
}, (t) => [
  index("webhook_attempts_endpoint_idx").on(t.endpointId, t.id),
  /**
   * A delivery's attempts: the dispatcher numbers each attempt after the delivery's highest, and the
   * delivery log and pruning read them by delivery (each was a scan of the whole table before 0026).
   */
  index("webhook_attempts_delivery_idx").on(t.deliveryId, t.attempt),
]);

/**
 * Records that could not be delivered after bounded retries (docs/reliability.md): events and
 * alerts the edge gave up on (reported by the AgentMonitor), events the origin could not store,
 * and status records the edge refused. Kept for the operator (`GET /v1/admin/dead-letters`) and
 * replayable once the cause is fixed. `payload` is JSON *text*, not jsonb: a record refused for
 * malformed Unicode must still be storable here.
 */
export const deadLetters = pgTable(
  "dead_letters",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    /** Idempotency: a re-sent report (or a second failure of the same record) updates one row. */
    key: text("key").notNull().unique(),
    source: text("source", { enum: ["edge", "origin"] }).notNull(),
    kind: text("kind", { enum: ["event", "alert", "publish"] }).notNull(),
    /** No foreign key: a report may name a tenant or agent the origin no longer has. */
    tenantId: uuid("tenant_id"),
    agentId: uuid("agent_id"),
    /** event_id, alert_id, or `<kind>:<subject>` of an outbox record. */
    ref: text("ref").notNull(),
    status: integer("status").notNull(),
    error: text("error").notNull(),
    attempts: integer("attempts").notNull(),
    payload: text("payload").notNull(),
    firstFailedAt: ts("first_failed_at").notNull(),
    deadAt: ts("dead_at").notNull().defaultNow(),
    replayedAt: ts("replayed_at"),
    replayResult: text("replay_result"),
  },
  (t) => [index("dead_letters_tenant_idx").on(t.tenantId, t.deadAt)],
);

/** Nonces of signed internal calls from the edge, kept until their timestamp window closes. */
export const internalNonces = pgTable("internal_nonces", {
  nonce: text("nonce").primaryKey(),
  expiresAt: ts("expires_at").notNull(),
});

/**
 * The audit log, one RFC 9162 Merkle tree per tenant. `audit_heads` holds each log's size and last
 * leaf hash and is the lock appenders take; entries, tree nodes and signed tree heads are
 * append-only, enforced by triggers (migration 0005): UPDATE, DELETE and TRUNCATE are refused.
 */
export const auditHeads = pgTable("audit_heads", {
  tenantId: uuid("tenant_id").primaryKey().references(() => tenants.id),
  size: bigint("size", { mode: "number" }).notNull().default(0),
  lastLeafHash: bytea("last_leaf_hash"),
  updatedAt: ts("updated_at").notNull().defaultNow(),
});

export const auditEntries = pgTable(
  "audit_entries",
  {
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    /** Leaf index in the tenant's tree (0-based). */
    idx: bigint("idx", { mode: "number" }).notNull(),
    kind: text("kind").notNull(),
    agentId: uuid("agent_id"),
    /** The RFC 8785 canonical JSON that was hashed; the source of truth for verification. */
    canonical: text("canonical").notNull(),
    leafHash: bytea("leaf_hash").notNull(),
    createdAt: ts("created_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.idx] }),
    index("audit_entries_agent_idx").on(t.tenantId, t.agentId, t.idx),
    index("audit_entries_kind_idx").on(t.tenantId, t.kind, t.idx),
  ],
);

/**
 * Each agent's own hash chain inside its tenant's log (audit entry v2): how many entries and
 * lifecycle entries the agent has and the leaf hash of the last of each. Written under the
 * tenant's `audit_heads` row lock, like the log itself.
 */
export const auditAgentHeads = pgTable(
  "audit_agent_heads",
  {
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    agentId: uuid("agent_id").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    lastLeafHash: bytea("last_leaf_hash").notNull(),
    lifecycleSize: bigint("lifecycle_size", { mode: "number" }).notNull(),
    lastLifecycleLeafHash: bytea("last_lifecycle_leaf_hash"),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.agentId] })],
);

/** Hashes of perfect subtrees: (level, index) covers leaves [index·2^level, (index+1)·2^level). */
export const auditNodes = pgTable(
  "audit_nodes",
  {
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    level: integer("level").notNull(),
    idx: bigint("idx", { mode: "number" }).notNull(),
    hash: bytea("hash").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.level, t.idx] })],
);

/** Signed tree heads: what the log committed to, signed by the tenant's audit key. */
export const auditTreeHeads = pgTable(
  "audit_tree_heads",
  {
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    treeSize: bigint("tree_size", { mode: "number" }).notNull(),
    rootHash: bytea("root_hash").notNull(),
    timestamp: ts("timestamp").notNull(),
    signature: bytea("signature").notNull(),
    signerId: uuid("signer_id").notNull().references(() => authorities.id),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.treeSize] })],
);

/**
 * Signed tree heads written to the WORM store (`audit/<tenant>/tree-heads/<size>-<root prefix>.json`), so an
 * auditor holds the log's commitments, not only its entries, out of the database's reach.
 * A separate table because tree heads themselves are append-only.
 */
export const auditTreeHeadArchive = pgTable(
  "audit_tree_head_archive",
  {
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    treeSize: bigint("tree_size", { mode: "number" }).notNull(),
    objectKey: text("object_key").notNull(),
    sha256: text("sha256").notNull(),
    versionId: text("version_id"),
    archivedAt: ts("archived_at").notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.treeSize] })],
);

/**
 * Sealed archive batches: consecutive entries of one tenant's log written as one WORM object.
 * A batch is sealed (its range and object key fixed) in the database before any upload, so a
 * crash between seal and upload resumes the same object, and a crash after upload is detected by
 * a HEAD of that key: nothing is lost or written twice.
 */
export const auditBatches = pgTable(
  "audit_batches",
  {
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    firstIdx: bigint("first_idx", { mode: "number" }).notNull(),
    lastIdx: bigint("last_idx", { mode: "number" }).notNull(),
    objectKey: text("object_key").notNull().unique(),
    sha256: text("sha256").notNull(),
    sealedAt: ts("sealed_at").notNull().defaultNow(),
    retainUntil: ts("retain_until").notNull(),
    archivedAt: ts("archived_at"),
    store: text("store", { enum: ["local", "s3"] }).notNull(),
    versionId: text("version_id"),
    attempts: integer("attempts").notNull().default(0),
    /** Upload lease: one origin at a time uploads a batch (several origins may share a database). */
    claimedUntil: ts("claimed_until"),
    claimedBy: text("claimed_by"),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.firstIdx] }), index("audit_batches_pending_idx").on(t.sealedAt).where(sql`${t.archivedAt} is null`)],
);

/**
 * Browser sessions of the console (/console): an API key exchanged for a short-lived cookie.
 * Only the SHA-256 of the cookie's 256-bit token is stored; the session carries the key's role
 * and dies with the key (authentication re-checks the key), at `expires_at`, or at sign-out.
 */
export const consoleSessions = pgTable(
  "console_sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: uuid("tenant_id").notNull().references(() => tenants.id),
    apiKeyId: uuid("api_key_id").notNull().references(() => apiKeys.id),
    tokenHash: text("token_hash").notNull().unique(),
    createdAt: ts("created_at").notNull(),
    expiresAt: ts("expires_at").notNull(),
    revokedAt: ts("revoked_at"),
  },
  (t) => [index("console_sessions_key_idx").on(t.apiKeyId)],
);
