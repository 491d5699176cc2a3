import * as asn1js from "asn1js";

/**
 * thisUpdate and nextUpdate of the first SingleResponse of a DER OCSPResponse (RFC 6960 §4.2.1),
 * for the RFC 5019 §6.2 caching headers. The responses are the origin's own (pre-signed, checked
 * when they were published), so this only walks the structure; anything unexpected gives
 * undefined and the caller falls back to headers without dates.
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

function seq(b: asn1js.AsnType | undefined): asn1js.AsnType[] | undefined {
  return b instanceof asn1js.Constructed ? b.valueBlock.value : undefined;
}

const isContext = (b: asn1js.AsnType | undefined, n: number): boolean => b !== undefined && b.idBlock.tagClass === 3 && b.idBlock.tagNumber === n;

export function ocspResponseTimes(der: Uint8Array): ResponseTimes | undefined {
  try {
    const outer = asn1js.fromBER(der);
    if (outer.offset === -1) return undefined;
    const responseBytes = seq(seq(outer.result)?.[1]);
    const inner = seq(responseBytes?.[0]);
    const octets = inner?.[1];
    if (!(octets instanceof asn1js.OctetString)) return undefined;
    const basic = asn1js.fromBER(octets.valueBlock.valueHexView);
    if (basic.offset === -1) return undefined;
    let data = seq(seq(basic.result)?.[0]) ?? [];
    if (isContext(data[0], 0)) data = data.slice(1); // version
    const single = seq(seq(data[2])?.[0]); // after responderID and producedAt
    const thisUpdate = single?.[2];
    if (!(thisUpdate instanceof asn1js.GeneralizedTime)) return undefined;
    const next = single?.[3];
    const nextTime = isContext(next, 0) ? seq(next)?.[0] : undefined;
    return {
      thisUpdate: thisUpdate.toDate(),
      ...(nextTime instanceof asn1js.GeneralizedTime ? { nextUpdate: nextTime.toDate() } : {}),
    };
  } catch {
    return undefined;
  }
}
