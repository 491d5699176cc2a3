import { and, eq, sql } from "drizzle-orm";
import { buildCrl } from "../ca/crl.ts";
import { BACKDATE_MS } from "../ca/profiles.ts";
import { buildOcspResponses, type OcspResponses } from "../ca/ocsp.ts";
import { certificates, tenants } from "../db/schema.ts";
import type { Services } from "../services.ts";
import { latestRootCrl } from "../lifecycle/upload-root-crl.ts";
import { effectiveStatus, type CertificateRow } from "../lifecycle/certificate-status.ts";
import { signIssuerCrls } from "./issuer-crls.ts";

/** OCSP responses are valid 4 days and re-signed at half-life (see docs/crl-ocsp.md). */
export const OCSP_VALIDITY_MS = 4 * 86_400_000;
/** CRLs are valid 24 h, re-issued on every revocation and at least every 12 h. */
export const CRL_VALIDITY_MS = 86_400_000;

/**
 * A CRL's thisUpdate, back-dated like a certificate's notBefore (BACKDATE_MS): a relying party
 * whose clock is a few seconds behind the origin's refuses a CRL issued "in the future" (openssl
 * verify -crl_check: "CRL is not yet valid"; GnuTLS: "issued with a future date"), and every
 * revocation re-signs the CRLs, so each one was unusable there for its first seconds. The entries
 * are still those as of now (a revocation of the last minute has a revocationDate after
 * thisUpdate, as in AD CS CRLs, back-dated by its ClockSkewMinutes), and nextUpdate is counted
 * from now. OCSP responses keep thisUpdate = now: openssl, Java and GnuTLS accept minutes of skew there.
 */
function crlThisUpdate(now: Date): Date {
  return new Date(now.getTime() - BACKDATE_MS);
}

export interface SignedCrl {
  der: Uint8Array;
  thisUpdate: Date;
  nextUpdate: Date;
  chainPem: string;
}

/** One issuing CA's CRL; `active` marks the tenant's current issuer (also served per tenant). */
export interface IssuerCrl extends SignedCrl {
  issuerSerial: string;
  active: boolean;
  /** One partition of the issuer's CRL (docs/crl-ocsp.md); absent: the CRL at the issuer's own URL. */
  partition?: number;
}

/**
 * The publisher's signing steps. Each returns null when the key manager cannot sign right now: a
 * revocation still reaches the edge at once (its status record does not need a signature), and the
 * refresh job re-signs later.
 */
export interface PublishSigners {
  /** True when null means "the key manager failed" (not "this deployment does not sign"). */
  readonly signs?: boolean;
  /** The certificate's status signed once per CertID hash (ocsp.ts: one SingleResponse each). */
  ocsp(cert: CertificateRow): Promise<OcspResponses | null>;
  /**
   * A CRL per issuing CA of the tenant that still has unexpired certificates, plus the active one
   * (after a rollover the old CA's certificates live on): null when the active one cannot be signed.
   */
  crl(tenant: { id: string; name: string }): Promise<IssuerCrl[] | null>;
  /** The root's CRL of issuing CAs (ARL): the CRL Distribution Point of issuing-CA certificates. */
  arl(): Promise<SignedCrl | null>;
}

export function keyManagerSigners(s: Services): PublishSigners {
  return {
    signs: true,
    async ocsp(cert) {
      // The CA that signed this certificate, retired or not: its CertID names that issuer.
      const issuer = cert.issuerId ? await s.ca.byId(cert.issuerId) : undefined;
      if (!issuer) return null;
      const now = s.clock.now();
      // A renewed certificate past its overlap answers revoked/superseded(4), as on the CRL.
      const superseded = cert.status !== "revoked" && effectiveStatus(cert, now) === "superseded";
      // A predecessor inside its overlap is "good" only until superseded_at, known now: a client
      // that caches the response until nextUpdate (RFC 5019 §6) must not keep "good" for up to
      // 4 days after it. The supersede job re-signs it (revoked/superseded) when the overlap ends.
      const goodUntil = cert.status === "renewed" && !superseded && cert.supersededAt ? cert.supersededAt.getTime() : Number.POSITIVE_INFINITY;
      const res = await buildOcspResponses(s.keys, issuer, {
        serial: cert.serialNumber,
        status: cert.status === "revoked" || superseded ? "revoked" : "good",
        revokedAt: superseded ? cert.supersededAt! : cert.revokedAt ?? undefined,
        reasonCode: superseded ? "superseded" : cert.revocationCode ?? "unspecified",
        thisUpdate: now,
        nextUpdate: new Date(Math.min(now.getTime() + OCSP_VALIDITY_MS, goodUntil)),
        producedAt: now,
      });
      if (!res.ok) return null;
      await s.db.update(certificates).set({ ocspProducedAt: now }).where(eq(certificates.id, cert.id));
      return res.value;
    },
    async crl(tenant) {
      const active = await s.ca.issuingFor(tenant);
      // Offline root, no issuing CA imported yet: nothing to sign, which is not a signing failure.
      if (!active.ok) return active.error.code === "ca_not_ready" ? [] : null;
      const root = await s.ca.root();
      if (!root.ok) return null;
      const now = s.clock.now();
      // Retired issuers stay published while any certificate they signed is unexpired.
      const live = await s.db.selectDistinct({ issuerId: certificates.issuerId }).from(certificates)
        .where(and(eq(certificates.tenantId, tenant.id), sql`${certificates.expiresAt} > ${now}`));
      const liveIds = new Set(live.map((r) => r.issuerId));
      const issuers = (await s.ca.issuersOf(tenant.id)).filter((i) => i.record.id === active.value.record.id || liveIds.has(i.record.id));
      const [n] = await s.db.update(tenants).set({ crlNumber: sql`${tenants.crlNumber} + 1` }).where(eq(tenants.id, tenant.id)).returning({ n: tenants.crlNumber });
      const nextUpdate = new Date(now.getTime() + CRL_VALIDITY_MS);
      const thisUpdate = crlThisUpdate(now);
      const out: IssuerCrl[] = [];
      for (const issuer of issuers) {
        const crls = await signIssuerCrls(s, tenant.id, issuer, { crlNumber: n!.n, thisUpdate, nextUpdate, asOf: now });
        const isActive = issuer.record.id === active.value.record.id;
        if (!crls) {
          if (isActive) return null;
          continue;
        }
        const chainPem = issuer.record.certificatePem + root.value.record.certificatePem;
        for (const c of crls) {
          out.push({ der: c.der, thisUpdate, nextUpdate, chainPem, issuerSerial: issuer.record.serialNumber, active: isActive, partition: c.partition });
        }
      }
      return out;
    },
    async arl() {
      const root = await s.ca.root();
      if (!root.ok) return null;
      // Offline root: the operator signs the root's CRL offline and uploads it; forward the newest.
      if (s.ca.offlineRoot) {
        const up = await latestRootCrl(s.db);
        return up ? { der: up.der, thisUpdate: up.thisUpdate, nextUpdate: up.nextUpdate, chainPem: root.value.record.certificatePem } : null;
      }
      const now = s.clock.now();
      const nextUpdate = new Date(now.getTime() + CRL_VALIDITY_MS);
      // Issuing CAs are never revoked (a rollover retires one, see docs/ca-lifecycle.md), so the list
      // is empty. The CRL number is the signing time in ms: increasing without a counter row.
      const thisUpdate = crlThisUpdate(now);
      const der = await buildCrl(s.keys, root.value, { crlNumber: BigInt(now.getTime()), thisUpdate, nextUpdate, revoked: [] });
      if (!der.ok) return null;
      return { der: der.value, thisUpdate, nextUpdate, chainPem: root.value.record.certificatePem };
    },
  };
}

/** For deployments and tests that publish status only. */
export const noSigners: PublishSigners = { ocsp: async () => null, crl: async () => null, arl: async () => null };
