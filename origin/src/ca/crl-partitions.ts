/**
 * Partitioned CRLs (docs/crl-ocsp.md): each issuing CA's certificates are split by issuance order
 * into partitions of CRL_PARTITION_SIZE, every certificate names its partition's CRL in its CRL
 * Distribution Point, and each partition's CRL carries the same URI as Issuing Distribution Point
 * (RFC 5280 §5.2.5). A partition holds at most CRL_PARTITION_SIZE certificates, so its CRL has at
 * most that many entries whatever the tenant does: there is no size cliff.
 *
 * The size: one entry of a Kakunin CRL is at most 51 bytes of DER (16-octet serial, UTCTime,
 * reasonCode), so 16,384 entries are ≈ 0.84 MB of DER, ≈ 1.1 MB of base64 in the publish record:
 * under the edge's 4 MiB field cap, and under the 2 MB row limit of a Durable Object's SQLite
 * where the edge's ledger keeps the authoritative copy.
 */
export const CRL_PARTITION_SIZE = 16_384;

/** The partition of the n-th certificate (1-based) an issuer was asked to sign. */
export function partitionOf(n: number): number {
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`not an issuance number: ${n}`);
  return Math.floor((n - 1) / CRL_PARTITION_SIZE);
}
