import { and, desc, eq, lt } from "drizzle-orm";
import { err, ok, rootHash, toHex, treeHeadMessage, treeHeadSignatureValid, type Result, type TreeHeadBody } from "@kakunin/shared";
import type { LoadedAuthority } from "../ca/authority.ts";
import { auditTreeHeads } from "../db/schema.ts";
import type { KeyManagerError } from "../kms/types.ts";
import { signVerified } from "../kms/verified-sign.ts";
import type { CaError } from "../ca/authority.ts";
import type { Services } from "../services.ts";
import { withPrefetchedNodes } from "./proof-reader.ts";

export const STH_ALGORITHM = "RSASSA_PKCS1_V1_5_SHA_256";

/** What a tree head signature covers (shared with the offline verifier): context string + canonical JSON. */
export function treeHeadSigningInput(h: TreeHeadBody): Uint8Array {
  return new TextEncoder().encode(treeHeadMessage(h));
}

export interface SignedTreeHead {
  tenant_id: string;
  tree_size: number;
  root_hash: string;
  timestamp: string;
  signature: string;
  signature_algorithm: typeof STH_ALGORITHM;
  signer_serial: string;
  signer_certificate_pem: string;
}

type Tenant = { id: string; name: string };

/** The log no longer extends a head the origin signed: nothing is signed over it (rewritten()). */
export interface AuditLogRewritten {
  code: "audit_log_rewritten";
  message: string;
}

/**
 * The newest signed tree head of the tenant's log, signing a new one (one KeyManager call) only
 * when the log has grown since the last one its current signer signed. Heads signed by an earlier
 * signer (the pre-EKU audit certificate, or one under a rolled-over issuing CA) are never served
 * with the current signer's certificate.
 */
export async function treeHead(s: Services, tenant: Tenant): Promise<Result<SignedTreeHead, CaError | AuditLogRewritten>> {
  const signer = await s.ca.auditSignerFor(tenant);
  if (!signer.ok) return signer;
  const size = await s.auditSizes.read(tenant.id);
  const [last] = await s.db.select().from(auditTreeHeads).where(eq(auditTreeHeads.tenantId, tenant.id)).orderBy(desc(auditTreeHeads.treeSize)).limit(1);
  if (last && last.treeSize >= size && last.signerId === signer.value.record.id) return ok(view(last, signer.value));
  return signAt(s, tenant, signer.value, Math.max(size, last?.treeSize ?? 0));
}

/**
 * A signed tree head of exactly `size` entries (the log may have grown since): how an evidence
 * export commits to the log ending with its own checkpoint entry. Roots of past sizes come from
 * the stored perfect subtrees, O(log n) reads.
 */
export async function treeHeadAt(s: Services, tenant: Tenant, size: number): Promise<Result<SignedTreeHead, CaError | AuditLogRewritten>> {
  const signer = await s.ca.auditSignerFor(tenant);
  if (!signer.ok) return signer;
  return signAt(s, tenant, signer.value, size);
}

async function signAt(s: Services, tenant: Tenant, signer: LoadedAuthority, size: number): Promise<Result<SignedTreeHead, KeyManagerError | AuditLogRewritten>> {
  const at = and(eq(auditTreeHeads.tenantId, tenant.id), eq(auditTreeHeads.treeSize, size));
  const [existing] = await s.db.select().from(auditTreeHeads).where(at);
  if (existing) return existing.signerId === signer.record.id ? ok(view(existing, signer)) : staleSigner(size);
  // The newest head signed below this size: the tree must still have the root it signed there.
  const [prior] = await s.db.select().from(auditTreeHeads)
    .where(and(eq(auditTreeHeads.tenantId, tenant.id), lt(auditTreeHeads.treeSize, size))).orderBy(desc(auditTreeHeads.treeSize)).limit(1);
  const [root, priorRoot] = await withPrefetchedNodes(s.db, tenant.id, async (reader) => [
    toHex(await rootHash(size, reader)), prior ? toHex(await rootHash(prior.treeSize, reader)) : null,
  ], s.auditNodes);
  if (prior) {
    const broken = await rewritten(s, prior, priorRoot!);
    if (broken) {
      s.logger.error("audit log does not extend its signed tree head; refusing to sign", { tenant_id: tenant.id, tree_size: prior.treeSize, problem: broken });
      return err({ code: "audit_log_rewritten", message: `The audit log no longer extends the tree head signed at size ${prior.treeSize} (${broken}): its database was changed behind the origin, which signs nothing over it. Compare with the tree heads in the WORM archive.` });
    }
  }
  const timestamp = s.clock.now().toISOString();
  const body = { tenant_id: tenant.id, tree_size: size, root_hash: root, timestamp };
  const sig = await signVerified(s.keys, signer.record.keyRef, treeHeadSigningInput(body), signer.spki);
  if (!sig.ok) return sig;
  await s.db.insert(auditTreeHeads).values({
    tenantId: tenant.id, treeSize: size, rootHash: Buffer.from(root, "hex"), timestamp: new Date(timestamp), signature: sig.value, signerId: signer.record.id,
  }).onConflictDoNothing();
  const [stored] = await s.db.select().from(auditTreeHeads).where(at);
  return stored!.signerId === signer.record.id ? ok(view(stored!, signer)) : staleSigner(size);
}

/**
 * Why the log no longer matches a head signed before (undefined when it does): its root at that
 * size is not the signed one, or the stored head's signature does not verify under its signer.
 * Someone who can write the database but not sign (the audit key is in the KeyManager) could
 * rewrite entries and rebuild the tree's nodes, and the origin signed whatever root they gave:
 * an export then verified without complaint unless the auditor kept an earlier head (found by a
 * red-team run, 2026-12-07). Checking the newest stored head before every signature means such a
 * rewrite gets no new signed head; rewriting the stored heads as well would need the key. One
 * root computation (O(log n) nodes, read with the new root's) and one RSA verification per new head.
 */
async function rewritten(s: Services, prior: typeof auditTreeHeads.$inferSelect, rootNow: string): Promise<string | undefined> {
  const signed = toHex(prior.rootHash);
  if (rootNow !== signed) return `its root there is ${rootNow}, the signed one ${signed}`;
  const signer = await s.ca.byId(prior.signerId);
  if (!signer) return `the head's signer ${prior.signerId} is unknown`;
  const body = { tenant_id: prior.tenantId, tree_size: prior.treeSize, root_hash: signed, timestamp: prior.timestamp.toISOString() };
  if (!(await treeHeadSignatureValid(signer.spki, prior.signature, body))) return "the stored head's signature does not verify";
  return undefined;
}

/**
 * Tree heads are append-only, one per size: a size signed by an earlier signer cannot be signed
 * again. It cannot happen through the API (a new signer is created with a `ca.created` entry, so
 * the log has grown past every head of the old one); reported, never served with the wrong certificate.
 */
function staleSigner(size: number): Result<never, KeyManagerError> {
  return err({ code: "failed", message: `tree size ${size} was signed by an earlier tree-head signer; append an entry and retry` });
}

function view(r: typeof auditTreeHeads.$inferSelect, signer: LoadedAuthority): SignedTreeHead {
  return {
    tenant_id: r.tenantId, tree_size: r.treeSize, root_hash: toHex(r.rootHash), timestamp: r.timestamp.toISOString(),
    signature: Buffer.from(r.signature).toString("base64"), signature_algorithm: STH_ALGORITHM,
    signer_serial: signer.record.serialNumber, signer_certificate_pem: signer.record.certificatePem,
  };
}
