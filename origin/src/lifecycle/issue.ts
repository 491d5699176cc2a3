import { createHash } from "node:crypto";
import { kakuninOids, ok, type Result } from "@kakunin/shared";
import { agentPkiUrls } from "../ca/urls.ts";
import { publicEdgeUrl } from "../config.ts";
import { agents } from "../db/schema.ts";
import { agentExtensions, agentName, BACKDATE_MS, DAY_MS } from "../ca/profiles.ts";
import type { LoadedAuthority } from "../ca/authority.ts";
import { newSerial } from "../ca/serial.ts";
import { signCertificate } from "../ca/sign-certificate.ts";
import type { x509 } from "../ca/x509.ts";
import type { Services } from "../services.ts";
import { floorToSecond } from "../time.ts";
import { allocateCrlPartition } from "./crl-partition.ts";
import { keyManagerFailure, type Failure } from "./failure.ts";
import { createTrackedKey, discardKey, keyDeps, type TrackedKey } from "./keys.ts";

type AgentRow = typeof agents.$inferSelect;

/** A signed agent certificate whose key exists but which no database row references yet. */
export interface PreparedCertificate {
  key: TrackedKey;
  cert: x509.X509Certificate;
  issuing: LoadedAuthority;
  serial: string;
  issuedAt: Date;
  expiresAt: Date;
  model: { name: string; version: string; hash: string };
  /** The CRL partition its CRL Distribution Point names. */
  crlPartition: number;
}

/** Agent validity: seconds when configured (tests, demos), otherwise days. */
export function validityMs(config: Services["config"]): number {
  return config.KAKUNIN_CERT_VALIDITY_SECONDS !== undefined ? config.KAKUNIN_CERT_VALIDITY_SECONDS * 1000 : config.KAKUNIN_CERT_VALIDITY_DAYS * DAY_MS;
}

/**
 * The expensive half of issuance, shared by certify and renew: a fresh RSA-2048 key in the
 * KeyManager (intent recorded first) and one Sign by the tenant's issuing CA. The caller commits
 * the row, and on any failure calls `discardPrepared` so the key does not outlive the attempt.
 */
export async function prepareCertificate(
  s: Services,
  tenant: { id: string; name: string },
  agent: AgentRow,
  now: Date,
): Promise<Result<PreparedCertificate, Failure>> {
  const issuing = await s.ca.issuingFor(tenant);
  if (!issuing.ok) return keyManagerFailure(issuing.error);
  // Before the key exists: a database failure here leaves nothing to clean up.
  const crlPartition = await allocateCrlPartition(s.db, issuing.value.record.id);
  const key = await createTrackedKey(keyDeps(s), { purpose: "agent", tenantId: tenant.id, label: `kakunin-agent-${agent.id}` });
  if (!key.ok) return keyManagerFailure(key.error);

  const issuedAt = floorToSecond(now.getTime());
  // Never outlive the issuing CA: a relying party would reject the chain.
  const expiresAt = new Date(Math.min(issuedAt.getTime() + validityMs(s.config), issuing.value.cert.notAfter.getTime()));
  const serial = newSerial();
  const model = { name: agent.modelName, version: agent.modelVersion, hash: agent.modelHash };
  const cert = await signCertificate(s.keys, {
    serial,
    subject: agentName(agent.name, tenant.name),
    issuer: issuing.value.cert.subjectName,
    subjectSpki: key.value.publicKeySpki,
    issuerSpki: issuing.value.spki,
    issuerCert: issuing.value.cert,
    notBefore: new Date(issuedAt.getTime() - BACKDATE_MS),
    notAfter: expiresAt,
    extensions: agentExtensions(agent.id, model, {
      modelOid: kakuninOids(s.config.KAKUNIN_OID_ARC).agentModelExtension,
      urls: agentPkiUrls(publicEdgeUrl(s.config), tenant.id, issuing.value.record.serialNumber, crlPartition),
    }),
    signerRef: issuing.value.record.keyRef,
  });
  if (!cert.ok) {
    await discardKey(keyDeps(s), key.value, "signing failed", now);
    return keyManagerFailure(cert.error);
  }
  return ok({ key: key.value, cert: cert.value, issuing: issuing.value, serial, issuedAt, expiresAt, model, crlPartition });
}

/** The prepared certificate will never be committed: delete its key now (tidy retries on failure). */
export function discardPrepared(s: Services, p: PreparedCertificate, reason: string): Promise<void> {
  return discardKey(keyDeps(s), p.key, reason, s.clock.now());
}

/** The row values and audit data of a prepared certificate. */
export function preparedRow(p: PreparedCertificate, tenantId: string, agentId: string) {
  return {
    tenantId, agentId, issuerId: p.issuing.record.id, serialNumber: p.serial,
    certificatePem: p.cert.toString("pem") + "\n", keyRef: p.key.ref,
    modelName: p.model.name, modelVersion: p.model.version, modelHash: p.model.hash,
    status: "active" as const, issuedAt: p.issuedAt, expiresAt: p.expiresAt, crlPartition: p.crlPartition,
  };
}

export function issuedAuditData(p: PreparedCertificate, certificateId: string): Record<string, unknown> {
  return {
    certificate_id: certificateId, serial_number: p.serial, issuer_serial: p.issuing.record.serialNumber,
    not_before: p.cert.notBefore.toISOString(), not_after: p.expiresAt.toISOString(), model: p.model, key_ref: p.key.ref,
    certificate_sha256: createHash("sha256").update(new Uint8Array(p.cert.rawData)).digest("hex"),
  };
}

/** The agent's model as a certificate states it (name, version, hash in the model extension and SAN). */
export const modelColumns = { modelName: agents.modelName, modelVersion: agents.modelVersion, modelHash: agents.modelHash };

/**
 * Whether the agent's model changed since `prepared` was read. A certificate is prepared (a key
 * generated in the KMS, signed) before the transaction that stores it; a PATCH with a new model
 * committed in between must not leave an active certificate stating the old model (design: a new
 * `model.hash` revokes the active certificate). Checked on the row the transaction locked.
 */
export function modelChanged(locked: { modelName: string; modelVersion: string; modelHash: string }, prepared: AgentRow): boolean {
  return locked.modelName !== prepared.modelName || locked.modelVersion !== prepared.modelVersion || locked.modelHash !== prepared.modelHash;
}
