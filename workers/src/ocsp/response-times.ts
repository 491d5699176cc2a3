import { Bad, kids, singleResponses, type Tlv } from "./response-reader.ts";

/**
 * thisUpdate and nextUpdate of the first SingleResponse of a DER OCSPResponse (RFC 6960 §4.2.1),
 * for the RFC 5019 §6.2 caching headers. Anything unexpected gives undefined and the caller falls
 * back to headers without dates.
 */
export interface ResponseTimes {
  thisUpdate: Date;
  nextUpdate?: Date;
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
    const single = singleResponses(der)[0];
    if (!single) return undefined;
    const thisUpdate = generalizedTime(der, single[2]);
    const next = single[3]?.tag === 0xa0 ? generalizedTime(der, kids(der, single[3])[0]) : undefined;
    return next ? { thisUpdate, nextUpdate: next } : { thisUpdate };
  } catch {
    return undefined;
  }
}
