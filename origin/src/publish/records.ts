import { and, desc, eq, gt, max, sql } from "drizzle-orm";
import { clampText, REVOCATION_REASON_MAX, type AgentRecord, type CertStatusRecord, type CrlRecord, type FeedbackRecord, type ScoringRecord } from "@kakunin/shared";
import { agentUrn, BACKDATE_MS } from "../ca/profiles.ts";
import { agentCredentials, agents, certificates, reviews, riskDecisions, tenants } from "../db/schema.ts";
import { revokedMintingKeys } from "../lifecycle/ingest-token-minters.ts";
import type { Services } from "../services.ts";
import { rfc3339 } from "../time.ts";
import type { PublishSigners } from "./signers.ts";

/**
 * Builds the record the edge stores for a subject, from the database's *current* state. `v` is the
 * highest outbox sequence covering it, so what the edge holds only ever moves forward.
 */
export async function certRecord(s: Services, signers: PublishSigners, serial: string, v: number): Promise<CertStatusRecord | undefined> {
  const [row] = await s.db
    .select({ c: certificates, a: agents })
    .from(certificates)
    .innerJoin(agents, eq(certificates.agentId, agents.id))
    .where(eq(certificates.serialNumber, serial));
  if (!row) return undefined;
  const { c, a } = row;
  const ocsp = await signers.ocsp(c);
  return {
    kind: "cert",
    v,
    serial_number: c.serialNumber,
    certificate_id: c.id,
    // A renewed certificate is published `active` with its superseded_at: the edge flips it at that
    // instant without waiting for a publication (as it does for expiry).
    status: c.status === "revoked" ? "revoked" : c.status === "superseded" ? "superseded" : "active",
    agent_id: a.id,
    agent_urn: agentUrn(a.id),
    tenant_id: c.tenantId,
    agent_status: a.status,
    model: { name: c.modelName, version: c.modelVersion, hash: c.modelHash },
    scopes: a.scopes,
    not_before: rfc3339(new Date(c.issuedAt.getTime() - BACKDATE_MS)),
    not_after: rfc3339(c.expiresAt),
    revoked_at: rfc3339(c.revokedAt),
    // Rows revoked by an earlier build may hold a longer reason: the record must still be taken.
    revocation_reason: c.revocationReason === null ? null : clampText(c.revocationReason, REVOCATION_REASON_MAX),
    revocation_code: c.revocationCode,
    certificate_pem: c.certificatePem,
    superseded_at: rfc3339(c.supersededAt),
    superseded_by: c.supersededBy,
    ocsp_b64: ocsp ? Buffer.from(ocsp.sha1).toString("base64") : null,
    ocsp_sha256_b64: ocsp ? Buffer.from(ocsp.sha256).toString("base64") : null,
  };
}

export async function agentRecord(s: Services, agentId: string, v: number): Promise<AgentRecord | undefined> {
  const [a] = await s.db.select().from(agents).where(eq(agents.id, agentId));
  if (!a) return undefined;
  const [active] = await s.db
    .select({ serial: certificates.serialNumber, expiresAt: certificates.expiresAt })
    .from(certificates)
    .where(and(eq(certificates.agentId, agentId), eq(certificates.status, "active")));
  const now = s.clock.now();
  const current = active && active.expiresAt.getTime() > now.getTime() ? active.serial : null;
  return { kind: "agent", v, agent_id: a.id, tenant_id: a.tenantId, status: a.status, current_serial: current, sensitivity: a.sensitivity, ...(await revokedMinters(s, agentId, now)) };
}

/** Listed per agent record at most; past it the record voids every token issued up to the newest revocation. */
const MAX_LISTED_CREDENTIALS = 1000;

/**
 * The agent's credentials, and the API keys that minted it tokens, revoked within a day (the
 * longest an ingest token lives, plus an hour for clocks): the edge refuses the tokens they minted. Only tokens still alive matter, so the
 * list stays short; an agent with more revocations than that in a day has every token issued up
 * to the newest one refused instead (its runtime mints a new one with a live credential).
 */
async function revokedMinters(s: Services, agentId: string, now: Date): Promise<Pick<AgentRecord, "revoked_credentials" | "tokens_issued_after">> {
  const since = new Date(now.getTime() - 25 * 3_600_000);
  const creds = await s.db
    .select({ id: agentCredentials.id, revokedAt: agentCredentials.revokedAt })
    .from(agentCredentials)
    .where(and(eq(agentCredentials.agentId, agentId), gt(agentCredentials.revokedAt, since)))
    .orderBy(desc(agentCredentials.revokedAt))
    .limit(MAX_LISTED_CREDENTIALS + 1);
  // API keys are credentials too: the tenant's keys revoked that day which had minted this agent a live token.
  const keys = await revokedMintingKeys(s.db, agentId, since, MAX_LISTED_CREDENTIALS + 1);
  const rows = [...creds, ...keys].sort((a, b) => b.revokedAt!.getTime() - a.revokedAt!.getTime());
  if (rows.length === 0) return {};
  const listed = rows.slice(0, MAX_LISTED_CREDENTIALS).map((r) => r.id);
  if (rows.length <= MAX_LISTED_CREDENTIALS) return { revoked_credentials: listed };
  return { revoked_credentials: listed, tokens_issued_after: Math.floor(rows[0]!.revokedAt!.getTime() / 1000) };
}

/** The tenant's scoring overrides (and shadow candidate), as every AgentMonitor of the tenant applies them. */
export async function scoringRecord(s: Services, tenantId: string, v: number): Promise<ScoringRecord | undefined> {
  const [t] = await s.db.select({ scoring: tenants.scoring }).from(tenants).where(eq(tenants.id, tenantId));
  return t ? { kind: "scoring", v, tenant_id: tenantId, scoring: t.scoring } : undefined;
}

/**
 * A review that cleared an agent, for its AgentMonitor (accept the reviewed events as normal). The
 * review covers what its alerts showed, up to the newest of them (`accepted_until`, the edge's own
 * alert time): an agent that went on after its flag keeps the risk of what no one reviewed. And it
 * covers what they were about (`accepted_features`, the features of their reasons): a clear about
 * unusual hours does not accept a drift of the agent's amounts that no alert showed.
 */
export async function feedbackRecord(s: Services, reviewId: string, v: number): Promise<FeedbackRecord | undefined> {
  const [r] = await s.db.select().from(reviews).where(eq(reviews.id, reviewId));
  if (!r) return undefined;
  const [last] = await s.db.select({ at: max(riskDecisions.triggeredAt) }).from(riskDecisions).where(eq(riskDecisions.reviewId, r.id));
  // Distinct in the database: a flapping agent's review can close thousands of decisions.
  const features = await s.db
    .selectDistinct({ f: sql<string | null>`jsonb_array_elements(${riskDecisions.reasons}) ->> 'feature'` })
    .from(riskDecisions)
    .where(eq(riskDecisions.reviewId, r.id))
    .limit(64);
  return {
    kind: "feedback", v, tenant_id: r.tenantId, agent_id: r.agentId, review_id: r.id, event_ids: r.eventIds.slice(0, 1000),
    ...(last?.at && { accepted_until: last.at.toISOString() }),
    accepted_features: features.flatMap((x) => (typeof x.f === "string" ? [x.f] : [])).sort(),
  };
}

/**
 * The CRL of each of the tenant's issuing CAs (per issuer serial), the active one's also as the
 * tenant's (and the operator tenant's as `default`, served at /v1/crl); and the root's CRL (ARL)
 * as `root` (/v1/crl/root).
 */
export async function crlRecords(s: Services, signers: PublishSigners, tenantId: string, v: number): Promise<CrlRecord[]> {
  const [t] = await s.db.select().from(tenants).where(eq(tenants.id, tenantId));
  if (!t) return [];
  const crls = await signers.crl({ id: t.id, name: t.name });
  if (!crls) return [];
  const out: CrlRecord[] = [];
  for (const crl of crls) {
    const rec: CrlRecord = {
      kind: "crl", v, tenant_id: t.id, issuer_serial: crl.issuerSerial, ...(crl.partition !== undefined ? { partition: crl.partition } : {}),
      crl_b64: Buffer.from(crl.der).toString("base64"),
      this_update: rfc3339(crl.thisUpdate), next_update: rfc3339(crl.nextUpdate), chain_pem: crl.chainPem,
    };
    out.push(rec);
    if (!crl.active || crl.partition !== undefined) continue;
    // The active issuer is also the tenant's CRL and chain (/v1/crl/<tenant>, /v1/ca/<tenant>).
    const { issuer_serial: _, ...tenantLevel } = rec;
    out.push(tenantLevel);
    if (t.isOperator) out.push({ ...tenantLevel, tenant_id: "default" });
  }
  // The root's CRL rides along with every tenant CRL, so it is re-signed on the same schedule.
  const arl = await signers.arl();
  if (arl) {
    out.push({
      kind: "crl", v, tenant_id: "root", crl_b64: Buffer.from(arl.der).toString("base64"),
      this_update: rfc3339(arl.thisUpdate), next_update: rfc3339(arl.nextUpdate), chain_pem: arl.chainPem,
    });
  }
  return out;
}
