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
export function agentPkiUrls(publicEdgeUrl: string, tenantId: string, issuerSerial: string): AgentPkiUrls {
  const b = base(publicEdgeUrl);
  return { ocsp: `${b}/v1/ocsp`, caIssuers: `${b}/v1/ca/${tenantId}/${issuerSerial}`, crl: `${b}/v1/crl/${tenantId}/${issuerSerial}` };
}

export function issuingPkiUrls(publicEdgeUrl: string, tenantId: string): IssuingPkiUrls {
  const b = base(publicEdgeUrl);
  return { caIssuers: `${b}/v1/ca/${tenantId}/root`, crl: `${b}/v1/crl/root` };
}
