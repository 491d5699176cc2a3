/**
 * Where relying parties fetch revocation data and issuer certificates: the public edge URL
 * (KAKUNIN_PUBLIC_EDGE_URL, default KAKUNIN_EDGE_URL). Written into Authority Information Access
 * and CRL Distribution Points so `openssl verify -crl_download` and `openssl ocsp` need no flags.
 * Per tenant wherever the answer depends on the tenant (its CRL, its issuing CA); the OCSP
 * responder is one URL because an OCSP request names its issuer itself (issuerKeyHash).
 */
export interface AgentPkiUrls {
  ocsp: string;
  /** DER of the issuing CA (RFC 5280 §4.2.2.1: a single DER certificate over HTTP). */
  caIssuers: string;
  crl: string;
}

export interface IssuingPkiUrls {
  /** DER of the root. */
  caIssuers: string;
  /** The root's CRL of issuing CAs (an ARL). */
  crl: string;
}

function base(publicEdgeUrl: string): string {
  return publicEdgeUrl.replace(/\/+$/, "");
}

/**
 * Per issuing CA, not only per tenant: after a CA rollover (docs/ca-lifecycle.md) a tenant has
 * several issuers, and a certificate's URLs are fixed when it is signed, so they name the issuer
 * (its serial) that signed it.
 */
export function agentPkiUrls(publicEdgeUrl: string, tenantId: string, issuerSerial: string, crlPartition?: number): AgentPkiUrls {
  const b = base(publicEdgeUrl);
  const crl =
    crlPartition === undefined ? issuerCrlUrl(publicEdgeUrl, tenantId, issuerSerial) : crlPartitionUrl(publicEdgeUrl, tenantId, issuerSerial, crlPartition);
  return { ocsp: `${b}/v1/ocsp`, caIssuers: `${b}/v1/ca/${tenantId}/${issuerSerial}`, crl };
}

/** The issuer's full CRL (the CDP of certificates issued before partitions). */
export function issuerCrlUrl(publicEdgeUrl: string, tenantId: string, issuerSerial: string): string {
  return `${base(publicEdgeUrl)}/v1/crl/${tenantId}/${issuerSerial}`;
}

/** One CRL partition of an issuer (docs/crl-ocsp.md): the CDP of its certificates and its CRL's IDP. */
export function crlPartitionUrl(publicEdgeUrl: string, tenantId: string, issuerSerial: string, partition: number): string {
  return `${issuerCrlUrl(publicEdgeUrl, tenantId, issuerSerial)}/${partition}`;
}

export function issuingPkiUrls(publicEdgeUrl: string, tenantId: string): IssuingPkiUrls {
  const b = base(publicEdgeUrl);
  return { caIssuers: `${b}/v1/ca/${tenantId}/root`, crl: `${b}/v1/crl/root` };
}
