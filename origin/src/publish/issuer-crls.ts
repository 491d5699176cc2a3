import { and, eq, inArray, isNotNull, sql } from "drizzle-orm";
import type { LoadedAuthority } from "../ca/authority.ts";
import { buildCrl, type RevokedEntry } from "../ca/crl.ts";
import { CRL_PARTITION_SIZE } from "../ca/crl-partitions.ts";
import { crlPartitionUrl, issuerCrlUrl } from "../ca/urls.ts";
import { publicEdgeUrl } from "../config.ts";
import { certificates } from "../db/schema.ts";
import type { Services } from "../services.ts";

/** One signed CRL of an issuer: its full CRL (no partition) or one partition's. */
export interface SignedIssuerCrl {
  der: Uint8Array;
  /** Absent: the CRL at the issuer's own URL (full, or the pre-partition certificates of a large issuer). */
  partition?: number;
}

interface Entry extends RevokedEntry {
  partition: number | null;
}

/**
 * The issuer's full CRL (no Issuing Distribution Point, every revoked certificate) is published at
 * its historic URL while it has at most this many entries. Above, that URL serves the CRL of the
 * certificates issued before partitions existed (whose CDP is that URL), scoped by an IDP.
 */
const FULL_CRL_MAX_ENTRIES = CRL_PARTITION_SIZE;

/**
 * Every CRL one issuing CA publishes (docs/crl-ocsp.md):
 * - one per partition that still has an unexpired certificate, scoped by an Issuing Distribution
 *   Point naming the partition's URL (the CDP of the certificates in it);
 * - at the issuer's own URL (the CDP of certificates issued before partitions): the full CRL
 *   while it has at most FULL_CRL_MAX_ENTRIES entries, so small tenants keep exactly the CRL they
 *   had; above that, the CRL of the pre-partition certificates, scoped by an IDP naming that URL.
 * Every CRL is signed once (one key-manager call each). null when any signature failed.
 */
export async function signIssuerCrls(
  s: Services,
  tenantId: string,
  issuer: LoadedAuthority,
  /** `asOf`: the signing time, what the entries reflect; `thisUpdate` is back-dated from it (signers.ts). */
  crl: { crlNumber: bigint; thisUpdate: Date; nextUpdate: Date; asOf: Date },
): Promise<SignedIssuerCrl[] | null> {
  const now = crl.asOf;
  const scope = and(eq(certificates.tenantId, tenantId), eq(certificates.issuerId, issuer.record.id), sql`${certificates.expiresAt} > ${now}`);
  const rows = await s.db
    .select({
      serial: certificates.serialNumber,
      status: certificates.status,
      revokedAt: certificates.revokedAt,
      code: certificates.revocationCode,
      supersededAt: certificates.supersededAt,
      partition: certificates.crlPartition,
    })
    .from(certificates)
    .where(and(scope, inArray(certificates.status, ["revoked", "renewed", "superseded"])));
  const entries: Entry[] = [];
  for (const r of rows) {
    // Expired certificates may leave the CRL (RFC 5280 §3.3), so only unexpired ones are listed.
    if (r.status === "revoked" && r.revokedAt)
      entries.push({ serial: r.serial, revokedAt: r.revokedAt, reasonCode: r.code ?? "unspecified", partition: r.partition });
    // Renewed certificates whose overlap has ended are listed with reason superseded(4): replaced,
    // not revoked for cause.
    else if (r.status !== "revoked" && r.supersededAt && r.supersededAt.getTime() <= now.getTime()) {
      entries.push({ serial: r.serial, revokedAt: r.supersededAt, reasonCode: "superseded", partition: r.partition });
    }
  }
  const live = await s.db
    .selectDistinct({ partition: certificates.crlPartition })
    .from(certificates)
    .where(and(scope, isNotNull(certificates.crlPartition)));
  const base = publicEdgeUrl(s.config);
  const issuerSerial = issuer.record.serialNumber;

  const out: SignedIssuerCrl[] = [];
  const full = entries.length <= FULL_CRL_MAX_ENTRIES;
  const own = await buildCrl(s.keys, issuer, {
    ...crl,
    revoked: full ? entries : entries.filter((e) => e.partition === null),
    distributionPoint: full ? undefined : issuerCrlUrl(base, tenantId, issuerSerial),
  });
  if (!own.ok) return null;
  out.push({ der: own.value });
  for (const { partition } of live.sort((a, b) => a.partition! - b.partition!)) {
    const p = partition!;
    const der = await buildCrl(s.keys, issuer, {
      ...crl,
      revoked: entries.filter((e) => e.partition === p),
      distributionPoint: crlPartitionUrl(base, tenantId, issuerSerial, p),
    });
    if (!der.ok) return null;
    out.push({ der: der.value, partition: p });
  }
  return out;
}
