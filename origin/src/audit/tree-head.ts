import { and, desc, eq } from "drizzle-orm";
import { ok, rootHash, toHex, treeHeadMessage, type Result, type TreeHeadBody } from "@kakunin/shared";
import { auditHeads, auditTreeHeads } from "../db/schema.ts";
import type { KeyManagerError } from "../kms/types.ts";
import type { Services } from "../services.ts";
import { committedReader } from "./append.ts";

export const STH_ALGORITHM = "RSASSA_PKCS1_V1_5_SHA_256";

/** What a tree head signature covers (shared with the offline verifier). */
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

/**
 * The newest signed tree head of the tenant's log, signing a new one (one KeyManager call) only
 * when the log has grown since the last. `atSize` asks for the head of an older size, if signed.
 */
export async function treeHead(s: Services, tenant: { id: string; name: string }): Promise<Result<SignedTreeHead, KeyManagerError>> {
  const signer = await s.ca.auditSignerFor(tenant);
  if (!signer.ok) return signer;
  const [head] = await s.db.select({ size: auditHeads.size }).from(auditHeads).where(eq(auditHeads.tenantId, tenant.id));
  const size = head?.size ?? 0;
  const [last] = await s.db.select().from(auditTreeHeads).where(eq(auditTreeHeads.tenantId, tenant.id)).orderBy(desc(auditTreeHeads.treeSize)).limit(1);
  if (last && last.treeSize >= size) return ok(view(last, signer.value.record.serialNumber, signer.value.record.certificatePem));
  const root = toHex(await rootHash(size, committedReader(s.db, tenant.id)));
  const timestamp = s.clock.now().toISOString();
  const body = { tenant_id: tenant.id, tree_size: size, root_hash: root, timestamp };
  const sig = await s.keys.sign(signer.value.record.keyRef, treeHeadSigningInput(body));
  if (!sig.ok) return sig;
  await s.db.insert(auditTreeHeads).values({
    tenantId: tenant.id, treeSize: size, rootHash: Buffer.from(root, "hex"), timestamp: new Date(timestamp), signature: sig.value, signerId: signer.value.record.id,
  }).onConflictDoNothing();
  const [stored] = await s.db.select().from(auditTreeHeads).where(and(eq(auditTreeHeads.tenantId, tenant.id), eq(auditTreeHeads.treeSize, size)));
  return ok(view(stored!, signer.value.record.serialNumber, signer.value.record.certificatePem));
}

function view(r: typeof auditTreeHeads.$inferSelect, signerSerial: string, pem: string): SignedTreeHead {
  return {
    tenant_id: r.tenantId, tree_size: r.treeSize, root_hash: toHex(r.rootHash), timestamp: r.timestamp.toISOString(),
    signature: Buffer.from(r.signature).toString("base64"), signature_algorithm: STH_ALGORITHM, signer_serial: signerSerial, signer_certificate_pem: pem,
  };
}
