import { and, eq, inArray, isNotNull, lte, sql } from "drizzle-orm";
import { buildCrl } from "../ca/crl.ts";
import { buildOcspResponse } from "../ca/ocsp.ts";
import { certificates, tenants } from "../db/schema.ts";
import type { Services } from "../services.ts";
import { effectiveStatus, type CertificateRow } from "../views/certificate.ts";

/** OCSP responses are valid 4 days and re-signed at half-life (see docs/crl-ocsp.md). */
export const OCSP_VALIDITY_MS = 4 * 86_400_000;
/** CRLs are valid 24 h, re-issued on every revocation and at least every 12 h. */
export const CRL_VALIDITY_MS = 86_400_000;

export interface SignedCrl {
  der: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
  chainPem: string;
}

/**
 * The publisher's signing steps. Each returns null when the key manager cannot sign right now: a
 * revocation still reaches the edge at once (its status record does not need a signature), and the
 * refresh job re-signs later.
 */
export interface PublishSigners {
  ocsp(cert: CertificateRow): Promise<Uint8Array | null>;
  crl(tenant: { id: string; name: string }): Promise<SignedCrl | null>;
}

export function keyManagerSigners(s: Services): PublishSigners {
  return {
    async ocsp(cert) {
      const [t] = await s.db.select({ id: tenants.id, name: tenants.name }).from(tenants).where(eq(tenants.id, cert.tenantId));
      const issuer = await s.ca.issuingFor(t!);
      if (!issuer.ok) return null;
      const now = s.clock.now();
      // A renewed certificate past its overlap answers revoked/superseded(4), as on the CRL.
      const superseded = cert.status !== "revoked" && effectiveStatus(cert, now) === "superseded";
      const res = await buildOcspResponse(s.keys, issuer.value, {
        serial: cert.serialNumber,
        status: cert.status === "revoked" || superseded ? "revoked" : "good",
        revokedAt: superseded ? cert.supersededAt! : cert.revokedAt ?? undefined,
        reasonCode: superseded ? "superseded" : cert.revocationCode ?? "unspecified",
        thisUpdate: now,
        nextUpdate: new Date(now.getTime() + OCSP_VALIDITY_MS),
        producedAt: now,
      });
      if (!res.ok) return null;
      await s.db.update(certificates).set({ ocspProducedAt: now }).where(eq(certificates.id, cert.id));
      return res.value;
    },
    async crl(tenant) {
      const issuer = await s.ca.issuingFor(tenant);
      if (!issuer.ok) return null;
      const root = await s.ca.root();
      if (!root.ok) return null;
      const now = s.clock.now();
      // Every certificate revoked and not yet expired; expired ones may leave the CRL (RFC 5280 §3.3).
      const revoked = await s.db
        .select({ serial: certificates.serialNumber, revokedAt: certificates.revokedAt, code: certificates.revocationCode })
        .from(certificates)
        .where(and(eq(certificates.tenantId, tenant.id), inArray(certificates.status, ["revoked"]), isNotNull(certificates.revokedAt), sql`${certificates.expiresAt} > ${now}`));
      // Renewed certificates whose overlap has ended are listed with reason superseded(4): they are
      // no longer valid, but were replaced, not revoked for cause.
      const superseded = await s.db
        .select({ serial: certificates.serialNumber, at: certificates.supersededAt })
        .from(certificates)
        .where(and(eq(certificates.tenantId, tenant.id), inArray(certificates.status, ["renewed", "superseded"]), lte(certificates.supersededAt, now), sql`${certificates.expiresAt} > ${now}`));
      const [n] = await s.db.update(tenants).set({ crlNumber: sql`${tenants.crlNumber} + 1` }).where(eq(tenants.id, tenant.id)).returning({ n: tenants.crlNumber });
      const nextUpdate = new Date(now.getTime() + CRL_VALIDITY_MS);
      const der = await buildCrl(s.keys, issuer.value, {
        crlNumber: n!.n,
        thisUpdate: now,
        nextUpdate,
        revoked: [
          ...revoked.map((r) => ({ serial: r.serial, revokedAt: r.revokedAt!, reasonCode: r.code ?? "unspecified" })),
          ...superseded.map((r) => ({ serial: r.serial, revokedAt: r.at!, reasonCode: "superseded" as const })),
        ],
      });
      if (!der.ok) return null;
      return { der: der.value, thisUpdate: now, nextUpdate, chainPem: issuer.value.record.certificatePem + root.value.record.certificatePem };
    },
  };
}

/** For deployments and tests that publish status only. */
export const noSigners: PublishSigners = { ocsp: async () => null, crl: async () => null };
