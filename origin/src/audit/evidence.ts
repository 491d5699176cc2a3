import { and, asc, eq, gt, gte, lt, lte, max, min, notInArray, or, sql, type SQL } from "drizzle-orm";
import {
  AGENT_ACTIVITY_KINDS, consistencyProof, err, EVIDENCE_FORMAT, EVIDENCE_FORMAT_V2, EXPORT_CHECKPOINT_KIND, ok, toHex, type EvidenceArchiveObject,
  type EvidenceBundleHeader, type EvidenceEntry, type EvidenceFormat, type Result,
} from "@kakunin/shared";
import { agents, auditBatches, auditEntries, certificates } from "../db/schema.ts";
import type { CaError } from "../ca/authority.ts";
import { x509 } from "../ca/x509.ts";
import type { Services } from "../services.ts";
import type { Queryable } from "../db/index.ts";
import type { AgentRow } from "../db/rows.ts";
import { effectiveStatus } from "../lifecycle/certificate-status.ts";
import { rfc3339 } from "../time.ts";
import { appendAudit, lockAuditLog } from "./append.ts";
import { recordFailedExport } from "./export-failed.ts";
import { multiproofItems } from "./evidence-v3.ts";
import { BatchProofReader, withPrefetchedNodes } from "./proof-reader.ts";
import { treeHeadAt, type AuditLogRewritten } from "./tree-head.ts";
import type { AuditActor } from "./types.ts";

export interface EvidenceWindow {
  from?: Date;
  to?: Date;
  /** Include a consistency proof from the tree of this size (an earlier tree head the caller holds). */
  sinceSize?: number;
  /** The bundle format; kakunin-evidence/3 unless an auditor's tooling asks for /2. */
  format?: EvidenceFormat;
}

/** Everything of the bundle but its entries and archive list, which are streamed. */
export type EvidenceHeader = EvidenceBundleHeader;

/** A bundle ready to stream: the header is built, the entries are read page by page. */
export interface EvidenceExport {
  header: EvidenceHeader;
  /** v2: the entries, each with its own audit path. */
  entries(): AsyncGenerator<EvidenceEntry>;
  /** v3: the JSON text of each element of `entries` (audit entries verbatim, and the multiproof's gap nodes). */
  items(): AsyncGenerator<string>;
  archive(): Promise<EvidenceArchiveObject[]>;
}

const PAGE = 500;
const ACTIVITY = [...AGENT_ACTIVITY_KINDS];

/**
 * Prepares the evidence bundle for one agent (docs/evidence-format.md). First it appends the
 * export's own checkpoint entry to the agent's chain and signs a tree head of exactly the log
 * ending there, so the signed tree proves the agent had no later entry. The bundle then holds one
 * contiguous stretch of the agent's chain: from its first entry (or, with `from`, the last entry
 * logged before `from` as the opening boundary) to the checkpoint (or, with `to`, the first entry
 * logged at or after `to` as the closing boundary), plus every lifecycle entry before that stretch,
 * and, after a `to` boundary, the lifecycle entries up to the checkpoint and the checkpoint itself.
 * Everything that can fail (unknown agent, KeyManager down) fails here, before a byte is sent.
 */
export async function prepareEvidence(
  s: Services, tenant: { id: string; name: string }, agentId: string, window: EvidenceWindow, actor: AuditActor,
  // The bundle's agent object is the API's agent view; the caller renders it (audit/ never imports views/).
  renderAgent: (a: AgentRow) => EvidenceBundleHeader["agent"],
): Promise<Result<EvidenceExport | undefined, CaError | AuditLogRewritten>> {
  const [agent] = await s.db.select().from(agents).where(and(eq(agents.id, agentId), eq(agents.tenantId, tenant.id)));
  if (!agent) return ok(undefined);
  // Fail before the checkpoint when the CA or the tree-head signer cannot be loaded.
  const chain = await s.ca.chainPem(tenant);
  if (!chain.ok) return chain;
  const signer = await s.ca.auditSignerFor(tenant);
  if (!signer.ok) return signer;
  const w = { from: window.from?.toISOString() ?? null, to: window.to?.toISOString() ?? null };
  const mine = and(eq(auditEntries.tenantId, tenant.id), eq(auditEntries.agentId, agentId));
  // The stretch is found before the checkpoint is appended, so the checkpoint can sign it, and
  // under the log's lock, in the checkpoint's transaction: found outside it, an entry another
  // writer committed in between, stamped before `to` (an append stamps its time before it waits
  // for the lock), landed after a `to` boundary already found and was left out of the bundle,
  // unseen by any verifier. With the lock held the log cannot change until the checkpoint is in.
  // The certificates too: read under the lock, every change to them committed before is in the
  // log before the checkpoint (a change and its entry commit together) and none committed after
  // is seen. Read after the commit, a revocation or certify committed while the tree head was
  // being signed was in the header without its entry, and the honest bundle failed the header check.
  const { bounds, checkpoint, certs } = await s.db.transaction(async (tx) => {
    await lockAuditLog(tx, tenant.id);
    const found = await stretchBounds(tx, mine, window);
    const stretch = await signedStretch(tx, mine, found);
    const { first } = await appendAudit(tx, tenant.id, [{
      kind: EXPORT_CHECKPOINT_KIND, actor, agentId, at: s.clock.now(), data: { window: w, ...(stretch && { stretch }) },
    }]);
    const rows = await tx.select().from(certificates).where(eq(certificates.agentId, agentId)).orderBy(asc(certificates.issuedAt));
    return { bounds: found, checkpoint: first, certs: rows };
  });
  // The checkpoint is committed and says an export happened: whatever fails from here until the
  // header is ready (the head's signature, the CAs read after it, the consistency proof), as a
  // refusal or a throw, leaves the caller a 503 and no bundle, and is recorded. Until 2026-12-07
  // only a failed signature was, and the CA chain read after it failed unrecorded.
  const signedPart = await recordingFailure(s, tenant.id, { agentId, checkpoint, actor }, async () => {
    const head = await treeHeadAt(s, tenant, checkpoint + 1);
    if (!head.ok) return head;
    const chains = await chainOfSigner(s, tenant.id, head.value.signer_certificate_pem);
    if (!chains.ok) return chains;
    // The route refused a since_size beyond the log, and the log only grows: never clamp here.
    const proof = window.sinceSize === undefined ? undefined
      : (await withPrefetchedNodes(s.db, tenant.id, (reader) => consistencyProof(window.sinceSize!, head.value.tree_size, reader), s.auditNodes)).map(toHex);
    return ok({ head, chains, proof });
  });
  if (!signedPart.ok) return signedPart;
  const { head: sth, chains: cas, proof } = signedPart.value;
  const start = bounds.start;
  const end = bounds.end ?? checkpoint;

  // The stretch [start, end] whole, every lifecycle entry up to the checkpoint, and the checkpoint
  // itself even when `to` closes the stretch earlier: it is the last leaf of the signed tree and
  // records the window, so a verifier can tell a trimmed end from the requested one.
  const chosen: SQL = and(mine, lte(auditEntries.idx, checkpoint), or(
    and(gte(auditEntries.idx, start), lte(auditEntries.idx, end)), notInArray(auditEntries.kind, ACTIVITY), eq(auditEntries.idx, checkpoint),
  ))!;

  const now = s.clock.now();
  // Status as of the signed tree head, the time the verifier judges it at (a renewal overlap or a
  // notAfter ending while the head was signed made the export's own clock disagree with it).
  const signedAt = new Date(sth.value.timestamp);
  const header: EvidenceHeader = {
    format: window.format ?? EVIDENCE_FORMAT,
    generated_at: now.toISOString(),
    tenant,
    agent: renderAgent(agent),
    window: w,
    ca_chain_pem: cas.value.chain,
    ...(cas.value.others.length ? { earlier_issuers_pem: cas.value.others.join("") } : {}),
    certificates: certs.map((c) => ({
      id: c.id, serial_number: c.serialNumber, certificate_pem: c.certificatePem, status: effectiveStatus(c, signedAt),
      issued_at: rfc3339(c.issuedAt), expires_at: rfc3339(c.expiresAt), revoked_at: rfc3339(c.revokedAt), revocation_reason: c.revocationReason,
    })),
    tree_head: sth.value,
    ...(window.sinceSize === undefined || proof === undefined ? {} : { consistency: { from_size: window.sinceSize, proof } }),
  };
  const size = sth.value.tree_size;
  async function* pages() {
    // Keyset pagination: each page is one indexed range read, whatever the log's size.
    for (let after = -1; ;) {
      const rows = await s.db
        .select({ idx: auditEntries.idx, kind: auditEntries.kind, canonical: auditEntries.canonical, leaf: auditEntries.leafHash })
        .from(auditEntries).where(and(chosen, gt(auditEntries.idx, after))).orderBy(asc(auditEntries.idx)).limit(PAGE);
      if (rows.length === 0) return;
      yield rows;
      after = rows[rows.length - 1]!.idx;
    }
  }
  return ok({
    header,
    async *entries() {
      const proofs = new BatchProofReader(s.db, tenant.id, size);
      for await (const rows of pages()) {
        const paths = await proofs.proofs(rows.map((r) => r.idx));
        for (const [i, r] of rows.entries()) {
          yield { index: r.idx, kind: r.kind, leaf_hash: toHex(r.leaf), canonical: r.canonical, audit_path: paths[i]!.map(toHex) };
        }
      }
    },
    items: () => multiproofItems(s.db, tenant.id, size, pages()),
    async archive() {
      // Archive objects that hold at least one of the bundle's entries.
      const holds = sql`exists (select 1 from ${auditEntries} where ${chosen} and ${auditEntries.idx} between ${auditBatches.firstIdx} and ${auditBatches.lastIdx})`;
      const batches = await s.db.select().from(auditBatches).where(and(eq(auditBatches.tenantId, tenant.id), holds)).orderBy(asc(auditBatches.firstIdx));
      return batches.map((b) => ({
        object_key: b.objectKey, first_index: b.firstIdx, last_index: b.lastIdx, sha256: b.sha256, store: b.store, archived_at: b.archivedAt?.toISOString() ?? null,
        version_id: b.versionId, retain_until: b.archivedAt ? b.retainUntil.toISOString() : null,
      }));
    },
  });
}

/**
 * The bundle as one JSON document, streamed: the header's fields, then `entries` one by one, then
 * `archive`, as `{"data": bundle}` like every success body. Key order is part of the format (the
 * tree head comes before the entries), so a streaming verifier checks each entry as it arrives.
 */
export async function* evidenceJson(e: EvidenceExport): AsyncGenerator<string> {
  const head = JSON.stringify({ data: e.header });
  yield `${head.slice(0, -2)},"entries":[`;
  let first = true;
  let chunk = "";
  const items = e.header.format === EVIDENCE_FORMAT_V2 ? mapAsync(e.entries(), (x) => JSON.stringify(x)) : e.items();
  for await (const item of items) {
    chunk += (first ? "" : ",") + item;
    first = false;
    if (chunk.length >= 64 * 1024) {
      yield chunk;
      chunk = "";
    }
  }
  yield `${chunk}],"archive":${JSON.stringify(await e.archive())}}}`;
}

async function* mapAsync<T, U>(xs: AsyncIterable<T>, f: (x: T) => U): AsyncGenerator<U> {
  for await (const x of xs) yield f(x);
}

/**
 * The window cut in log order. Entry times are not monotonic in the log: an operation stamps its
 * time before slow work (a renewal's key generation in a KMS or an HSM takes seconds) and
 * concurrent appends wait for the head lock, so "the last entry logged before `from`" could sit
 * after entries of the window, which were then left out of an honest export. The stretch opens at
 * the agent's entry just before its first one logged at or after `from` (every entry before that
 * one is before `from`), and closes at the agent's entry just after its last one logged before
 * `to` (every entry after it is at or after `to`): the boundaries the verifier checks. `end`
 * undefined: the stretch runs to the export's checkpoint.
 */
async function stretchBounds(db: Queryable, mine: SQL | undefined, window: EvidenceWindow): Promise<{ start: number; end: number | undefined }> {
  let start = 0;
  if (window.from) {
    const [firstIn] = await db.select({ idx: min(auditEntries.idx) }).from(auditEntries).where(and(mine, gte(auditEntries.createdAt, window.from)));
    const [open] = await db.select({ idx: max(auditEntries.idx) }).from(auditEntries).where(firstIn?.idx == null ? mine : and(mine, lt(auditEntries.idx, firstIn.idx)));
    start = open?.idx ?? 0;
  }
  let end: number | undefined;
  if (window.to) {
    const floor = window.from ? start : -1;
    const [lastIn] = await db.select({ idx: max(auditEntries.idx) }).from(auditEntries).where(and(mine, gt(auditEntries.idx, floor), lt(auditEntries.createdAt, window.to)));
    const [close] = await db.select({ idx: min(auditEntries.idx) }).from(auditEntries).where(and(mine, gt(auditEntries.idx, lastIn?.idx ?? floor)));
    end = close?.idx ?? undefined;
  }
  return { start, end };
}

/**
 * Where the stretch opens and closes, as the agent_seq the verifier sees: signed in the checkpoint,
 * so a holder of the bundle cannot cut it down to a later opening (or an earlier closing) entry
 * whose time also lies outside the window, which the times alone cannot rule out where they go
 * backwards. `last_seq` null: the stretch closes at the checkpoint. Undefined for an agent whose
 * boundary entry predates audit entry v2 (no agent_seq): the verifier notes it is not signed.
 */
async function signedStretch(db: Queryable, mine: SQL | undefined, b: { start: number; end: number | undefined }): Promise<{ first_seq: number; last_seq: number | null } | undefined> {
  // The first chain entry at or after the opening (v1 entries, of the era before the chain, have none).
  let first: number | undefined;
  for (let after = b.start - 1; first === undefined; ) {
    const rows = await db.select({ idx: auditEntries.idx, canonical: auditEntries.canonical }).from(auditEntries)
      .where(and(mine, gt(auditEntries.idx, after))).orderBy(asc(auditEntries.idx)).limit(100);
    if (rows.length === 0) break;
    // Parsed only up to the first chain entry: usually the first row, and canonicals can be large.
    for (const r of rows) if ((first = agentSeqOf(r.canonical)) !== undefined) break;
    after = rows[rows.length - 1]!.idx;
  }
  // No chain entry yet: the checkpoint will be the agent's first, agent_seq 0.
  if (first === undefined) first = b.end === undefined ? 0 : undefined;
  if (first === undefined) return undefined;
  if (b.end === undefined) return { first_seq: first, last_seq: null };
  const [close] = await db.select({ canonical: auditEntries.canonical }).from(auditEntries).where(and(mine, eq(auditEntries.idx, b.end)));
  const last = close ? agentSeqOf(close.canonical) : undefined;
  return last === undefined ? undefined : { first_seq: first, last_seq: last };
}

function agentSeqOf(canonical: string): number | undefined {
  const seq = (JSON.parse(canonical) as { agent_seq?: unknown }).agent_seq;
  return typeof seq === "number" ? seq : undefined;
}

/**
 * The bundle's CAs, read after the tree head is signed: `ca_chain_pem` is the chain of the issuing
 * CA that certified the head's signer (the verifier requires exactly that), and `earlier_issuers_pem`
 * every other issuing CA of the tenant (the agent's certificates may chain to any of them). Read
 * before the checkpoint, as until 2026-12-07, a rollover committed while the export ran gave a head
 * signed by the new CA's signer beside the old CA's chain, without the new CA: the honest bundle
 * failed verification. The issuing CAs have distinct subjects (` G<n>`), so the signer's issuer
 * name designates one; the current CA is the answer whenever no rollover raced the export.
 */
async function chainOfSigner(s: Services, tenantId: string, signerPem: string): Promise<Result<{ chain: string; others: string[] }, CaError>> {
  const root = await s.ca.root();
  if (!root.ok) return root;
  const issuers = await s.ca.issuersOf(tenantId);
  const issuer = new x509.X509Certificate(signerPem).issuer;
  const signing = issuers.find((a) => a.cert.subject === issuer) ?? issuers.find((a) => a.record.status === "active") ?? issuers[0];
  if (!signing) return err({ code: "not_configured", message: `tenant ${tenantId} has no issuing CA` });
  const others = issuers.filter((a) => a !== signing).map((a) => a.record.certificatePem);
  return ok({ chain: signing.record.certificatePem + root.value.record.certificatePem, others });
}

/** Runs what follows an export's committed checkpoint; a refusal or a throw is recorded (export-failed.ts) and passed on. */
async function recordingFailure<T, E extends { code?: string; message: string }>(
  s: Services, tenantId: string, f: { agentId: string; checkpoint: number; actor: AuditActor }, run: () => Promise<Result<T, E>>,
): Promise<Result<T, E>> {
  let r: Result<T, E>;
  try {
    r = await run();
  } catch (e) {
    await recordFailedExport(s, tenantId, { ...f, stage: "sign", failure: { thrown: e } });
    throw e;
  }
  if (!r.ok) await recordFailedExport(s, tenantId, { ...f, stage: "sign", failure: { refused: { code: r.error.code ?? "failed", message: r.error.message } } });
  return r;
}
