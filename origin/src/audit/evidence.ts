import { and, asc, eq, gte, lt, lte } from "drizzle-orm";
import {
  EVIDENCE_FORMAT, inclusionProof, MemoryNodeStore, ok, toHex, type EvidenceBundle, type EvidenceEntry, type Result,
} from "@kakunin/shared";
import { agents, auditBatches, auditEntries, certificates } from "../db/schema.ts";
import type { KeyManagerError } from "../kms/types.ts";
import type { Services } from "../services.ts";
import { toAgentView } from "../views/agent.ts";
import { effectiveStatus } from "../views/certificate.ts";
import { rfc3339 } from "../views/time.ts";
import { treeHead } from "./tree-head.ts";

/** Entries about who the agent is are always included; events only inside the window. */
const LIFECYCLE = new Set(["agent.created", "agent.updated", "agent.retired", "certificate.issued", "certificate.revoked", "key.created", "risk.decision", "ingest_token.issued"]);

export interface EvidenceWindow {
  from?: Date;
  to?: Date;
}

/**
 * Builds the evidence bundle for one agent: its record, certificates and CA chain, every audit
 * entry about it (events limited to the window, by event time) with inclusion proofs against a
 * freshly signed tree head, and the archive objects holding those entries.
 */
export async function buildEvidence(
  s: Services,
  tenant: { id: string; name: string },
  agentId: string,
  window: EvidenceWindow,
): Promise<Result<EvidenceBundle | undefined, KeyManagerError>> {
  const [agent] = await s.db.select().from(agents).where(and(eq(agents.id, agentId), eq(agents.tenantId, tenant.id)));
  if (!agent) return ok(undefined);
  const sth = await treeHead(s, tenant);
  if (!sth.ok) return sth;
  const size = sth.value.tree_size;
  const chain = await s.ca.chainPem(tenant);
  if (!chain.ok) return chain;

  const rows = await s.db
    .select({ idx: auditEntries.idx, kind: auditEntries.kind, canonical: auditEntries.canonical, leaf: auditEntries.leafHash })
    .from(auditEntries)
    .where(and(eq(auditEntries.tenantId, tenant.id), eq(auditEntries.agentId, agentId), lt(auditEntries.idx, size)))
    .orderBy(asc(auditEntries.idx));
  const chosen = rows.filter((r) => {
    if (LIFECYCLE.has(r.kind)) return true;
    if (r.kind !== "event.ingested") return true;
    const at = eventTime(r.canonical);
    return (!window.from || at >= window.from.getTime()) && (!window.to || at < window.to.getTime());
  });

  // Proofs from an in-memory tree of the log's leaf hashes: one query, then pure hashing.
  const leaves = await s.db.select({ leaf: auditEntries.leafHash }).from(auditEntries)
    .where(and(eq(auditEntries.tenantId, tenant.id), lt(auditEntries.idx, size))).orderBy(asc(auditEntries.idx));
  const tree = new MemoryNodeStore();
  for (const l of leaves) await tree.append(l.leaf);
  const entries: EvidenceEntry[] = [];
  for (const r of chosen) {
    const path = await inclusionProof(r.idx, size, tree);
    entries.push({ index: r.idx, kind: r.kind, leaf_hash: toHex(r.leaf), canonical: r.canonical, audit_path: path.map(toHex) });
  }

  const certs = await s.db.select().from(certificates).where(eq(certificates.agentId, agentId)).orderBy(asc(certificates.issuedAt));
  const now = s.clock.now();
  const first = entries[0]?.index ?? 0;
  const last = entries[entries.length - 1]?.index ?? -1;
  const batches = last < 0 ? [] : await s.db.select().from(auditBatches)
    .where(and(eq(auditBatches.tenantId, tenant.id), lte(auditBatches.firstIdx, last), gte(auditBatches.lastIdx, first)))
    .orderBy(asc(auditBatches.firstIdx));
  const wanted = new Set(entries.map((e) => e.index));
  return ok({
    format: EVIDENCE_FORMAT,
    generated_at: now.toISOString(),
    tenant,
    agent: toAgentView(agent),
    window: { from: window.from?.toISOString() ?? null, to: window.to?.toISOString() ?? null },
    ca_chain_pem: chain.value,
    certificates: certs.map((c) => ({
      id: c.id, serial_number: c.serialNumber, certificate_pem: c.certificatePem, status: effectiveStatus(c, now),
      issued_at: rfc3339(c.issuedAt), expires_at: rfc3339(c.expiresAt), revoked_at: rfc3339(c.revokedAt), revocation_reason: c.revocationReason,
    })),
    tree_head: sth.value,
    entries,
    archive: batches
      .filter((b) => entries.some((e) => e.index >= b.firstIdx && e.index <= b.lastIdx && wanted.has(e.index)))
      .map((b) => ({ object_key: b.objectKey, first_index: b.firstIdx, last_index: b.lastIdx, sha256: b.sha256, store: b.store, archived_at: b.archivedAt?.toISOString() ?? null })),
  });
}

function eventTime(canonical: string): number {
  const entry = JSON.parse(canonical) as { data?: { event?: { timestamp?: string } } };
  return Date.parse(entry.data?.event?.timestamp ?? "") || 0;
}
