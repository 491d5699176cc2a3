import { createHash } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { ok, type Result } from "@kakunin/shared";
import { appendAudit } from "../audit/append.ts";
import type { AuditActor } from "../audit/types.ts";
import { agents } from "../db/schema.ts";
import type { Services } from "../services.ts";
import type { CertificateRow } from "./certificate-status.ts";
import { fail, type Failure, keyManagerFailure } from "./failure.ts";
import { activeCertificate } from "./revoke.ts";
import { x509 } from "../ca/x509.ts";
import { signVerified } from "../kms/verified-sign.ts";

export interface AgentSignature {
  cert: CertificateRow;
  signature: Uint8Array;
  payloadSha256: string;
}

/**
 * Signs `payload` with the agent's active certificate key inside the KeyManager, audited `key.signed`
 * (payload hash, never the payload). Only a valid certificate's key may speak for the agent: revoked
 * or expired keys sign nothing (409 no-active-certificate).
 */
export async function signAsAgent(
  s: Services,
  tenantId: string,
  agentId: string,
  payload: Uint8Array,
  actor: AuditActor,
): Promise<Result<AgentSignature, Failure>> {
  const [agent] = await s.db
    .select({ id: agents.id, status: agents.status })
    .from(agents)
    .where(and(eq(agents.id, agentId), eq(agents.tenantId, tenantId)));
  if (!agent) return fail("not-found", `agent ${agentId} not found`);
  // Final, as certify, renew and credentials answer (422), not the 409 that certifying would cure.
  if (agent.status === "retired") return fail("agent-retired", `agent ${agentId} is retired; it signs nothing`);
  const cert = await activeCertificate(s.db, agentId, s.clock.now());
  if (!cert) return fail("no-active-certificate", `agent ${agentId} has no active certificate to sign with`);
  // Checked under the certificate's key: what a relying party verifies this signature with.
  const spki = new Uint8Array(new x509.X509Certificate(cert.certificatePem).publicKey.rawData);
  const signed = await signVerified(s.keys, cert.keyRef, payload, spki);
  if (!signed.ok) return keyManagerFailure(signed.error);
  const payloadSha256 = createHash("sha256").update(payload).digest("hex");
  await s.db.transaction((tx) =>
    appendAudit(tx, tenantId, [
      {
        kind: "key.signed",
        actor,
        agentId,
        at: s.clock.now(),
        data: {
          certificate_id: cert.id,
          serial_number: cert.serialNumber,
          key_ref: cert.keyRef,
          payload_sha256: payloadSha256,
          algorithm: "RSASSA_PKCS1_V1_5_SHA_256",
        },
      },
    ]),
  );
  return ok({ cert, signature: signed.value, payloadSha256 });
}
