/**
 * thisUpdate and nextUpdate of the first SingleResponse of a DER OCSPResponse (RFC 6960 §4.2.1),
 * for the RFC 5019 §6.2 caching headers. The responses are the origin's own (pre-signed, checked
 * when they were published), so this only walks the structure with a minimal TLV reader (no ASN.1
 * library, no copies: it runs once per prepared response); anything unexpected gives undefined
 * and the caller falls back to headers without dates.
 *
 *   OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT SEQUENCE {
 *     responseType OID, response OCTET STRING (BasicOCSPResponse) } }
 *   BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, … }
 *   ResponseData ::= SEQUENCE { version [0] EXPLICIT OPTIONAL, responderID ([1] | [2]),
 *     producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse, … }
 *   SingleResponse ::= SEQUENCE { certID, certStatus, thisUpdate GeneralizedTime,
 *     nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, … }
 */
export interface ResponseTimes {
  thisUpdate: Date;
  nextUpdate?: Date;
}

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

class Bad extends Error {}

function tlv(b: Uint8Array, pos: number, limit: number): Tlv {
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
function kids(b: Uint8Array, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.start; p < t.end; p = out[out.length - 1]!.end) out.push(tlv(b, p, t.end));
  return out;
}

/** GeneralizedTime "YYYYMMDDHHMMSS[.fff]Z" as DER requires. */
function generalizedTime(b: Uint8Array, t: Tlv | undefined): Date {
  if (!t || t.tag !== 0x18) throw new Bad();
  const s = String.fromCharCode(...b.subarray(t.start, t.end));
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\.\d+)?Z$/.exec(s);
  if (!m) throw new Bad();
  return new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ""}Z`);
}

export function ocspResponseTimes(der: Uint8Array): ResponseTimes | undefined {
  try {
    const outer = tlv(der, 0, der.length);
    const [, responseBytes] = kids(der, outer);
    if (responseBytes?.tag !== 0xa0) return undefined;
    const [inner] = kids(der, responseBytes);
    const octets = kids(der, inner!)[1];
    if (octets?.tag !== 0x04) return undefined;
    const basic = tlv(der, octets.start, octets.end);
    let data = kids(der, kids(der, basic)[0]!);
    if (data[0]?.tag === 0xa0) data = data.slice(1); // version
    const single = kids(der, kids(der, data[2]!)[0]!); // responses[0], after responderID and producedAt
    const thisUpdate = generalizedTime(der, single[2]);
    const next = single[3]?.tag === 0xa0 ? generalizedTime(der, kids(der, single[3])[0]) : undefined;
    return next ? { thisUpdate, nextUpdate: next } : { thisUpdate };
  } catch {
    return undefined;
  }
}
