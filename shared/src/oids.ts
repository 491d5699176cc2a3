/**
 * Every object identifier Kakunin defines, under one arc with small arcs only: parsers that hold
 * arcs in machine integers (Go crypto/x509, GnuTLS, many Java and embedded stacks) refuse the old
 * 128-bit `2.25.<UUID>` arc.
 *
 * The default arc sits under IANA Private Enterprise Number 32473, which RFC 5612 reserves for
 * documentation and examples. A production deployment registers its own PEN with IANA (free,
 * https://pen.iana.org) and sets `KAKUNIN_OID_ARC` to `1.3.6.1.4.1.<PEN>.<n>`; relying parties that
 * check these OIDs (the `kakunin` CLI's `--oid-arc`) must be told the same arc.
 * docs/certificate-profile.md documents each identifier.
 */
export const DEFAULT_OID_ARC = "1.3.6.1.4.1.32473.1";

/** The arc must be a dotted OID whose every arc fits in 32 bits (what Go and GnuTLS accept). */
export function isSmallArcOid(oid: string): boolean {
  if (!/^[0-2](\.(0|[1-9][0-9]{0,9}))+$/.test(oid)) return false;
  return oid.split(".").every((arc) => Number(arc) <= 0xffff_ffff);
}

export interface KakuninOids {
  arc: string;
  /** Non-critical extension binding an agent certificate to its model (name, version, hash). */
  agentModelExtension: string;
  /** Non-critical extension naming the tenant id (UUID) in issuing-CA and audit certificates. */
  tenantExtension: string;
  /** Extended key usage: signs audit-log tree heads, nothing else. */
  ekuAuditTreeHeadSigning: string;
}

export function kakuninOids(arc: string = DEFAULT_OID_ARC): KakuninOids {
  if (!isSmallArcOid(arc)) throw new Error(`OID arc ${arc} is not a dotted OID with arcs < 2^32`);
  return {
    arc,
    agentModelExtension: `${arc}.1`,
    tenantExtension: `${arc}.2`,
    ekuAuditTreeHeadSigning: `${arc}.3.1`,
  };
}

/** The model extension's OID before small arcs (certificates issued earlier still carry it). */
export const LEGACY_AGENT_MODEL_OID = "2.25.288055981621491828329580201972659625695";
