/**
 * A minimal DER walker for the origin's pre-signed OCSP responses (RFC 6960 §4.2.1). They are the
 * origin's own bytes, checked when they were published, so this only walks the structure: no
 * ASN.1 library and no copies (it runs once per prepared response). Lengths are bounded by their
 * parent, so a truncated or lying length throws `Bad` instead of reading past the end.
 *
 *   OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT SEQUENCE {
 *     responseType OID, response OCTET STRING (BasicOCSPResponse) } }
 *   BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, … }
 *   ResponseData ::= SEQUENCE { version [0] EXPLICIT OPTIONAL, responderID ([1] | [2]),
 *     producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse, … }
 *   SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate GeneralizedTime,
 *     nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, … }
 */
export interface Tlv {
  tag: number;
  start: number;
  end: number;
}

export class Bad extends Error {}

export function tlv(b: Uint8Array, pos: number, limit: number): Tlv {
  if (pos + 2 > limit) throw new Bad();
  const tag = b[pos]!;
  let len = b[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new Bad();
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    start += n;
  }
  if (start + len > limit) throw new Bad();
  return { tag, start, end: start + len };
}

/** The children of a constructed TLV, in order. */
export function kids(b: Uint8Array, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.start; p < t.end; p = out[out.length - 1]!.end) out.push(tlv(b, p, t.end));
  return out;
}

/** The SingleResponses of a DER OCSPResponse, each as its children (certID first); throws `Bad`. */
export function singleResponses(der: Uint8Array): Tlv[][] {
  const outer = tlv(der, 0, der.length);
  const [, responseBytes] = kids(der, outer);
  if (responseBytes?.tag !== 0xa0) throw new Bad();
  const [inner] = kids(der, responseBytes);
  const octets = kids(der, inner!)[1];
  if (octets?.tag !== 0x04) throw new Bad();
  const basic = tlv(der, octets.start, octets.end);
  let data = kids(der, kids(der, basic)[0]!);
  if (data[0]?.tag === 0xa0) data = data.slice(1); // version
  const responses = data[2]; // after responderID and producedAt
  if (responses?.tag !== 0x30) throw new Bad();
  return kids(der, responses).map((single) => kids(der, single));
}
