import * as asn1js from "asn1js";
import { err, ok, type Result } from "./result.ts";

// OCSP request parsing for the edge (RFC 6960 §4.1). Web APIs only: this runs in workerd, browsers
// and Node. The edge never signs: it picks a response the origin signed ahead of time.

export interface OcspCertId {
  /** Hash of the CertID; pre-signed responses exist for SHA-1 and SHA-256 CertIDs. */
  hashAlgorithm: "sha1" | "sha256" | "other";
  /** Lowercase hex. */
  issuerNameHash: string;
  /** Lowercase hex. */
  issuerKeyHash: string;
  /** Lowercase hex without a leading 00 pad octet: the same form as Kakunin serials. */
  serial: string;
}

export interface OcspRequest {
  certIds: OcspCertId[];
  /** id-pkix-ocsp-nonce, unwrapped from its OCTET STRING (RFC 8954); pre-signed answers ignore it. */
  nonce?: Uint8Array;
}

const OID_SHA1 = "1.3.14.3.2.26";
const OID_SHA256 = "2.16.840.1.101.3.4.2.1";
const OID_NONCE = "1.3.6.1.5.5.7.48.1.2";
const HASH_LENGTH = { sha1: 20, sha256: 32 } as const;

/** OCSPResponse carrying only a responseStatus (RFC 6960 §4.2.1): unsigned by design. */
const statusOnly = (status: number): Uint8Array => Uint8Array.of(0x30, 0x03, 0x0a, 0x01, status);
export const OCSP_MALFORMED_REQUEST: Uint8Array = statusOnly(1);
export const OCSP_INTERNAL_ERROR: Uint8Array = statusOnly(2);
export const OCSP_TRY_LATER: Uint8Array = statusOnly(3);
/** RFC 5019 §2.2.3: the answer for a certificate this responder has no pre-signed response for. */
export const OCSP_UNAUTHORIZED: Uint8Array = statusOnly(6);

class Malformed extends Error {}

/**
 * asn1js.fromBER, with hostile input in mind: it reports most errors as offset -1 but throws on some
 * (an odd-length BMPString is decoded eagerly and raises a RangeError; deep nesting overflows the
 * stack). Either way the request is malformed; returns undefined unless `der` is exactly one TLV.
 */
function decodeWhole(der: Uint8Array): asn1js.AsnType | undefined {
  try {
    const parsed = asn1js.fromBER(der);
    return parsed.offset === der.length && der.length > 0 ? parsed.result : undefined;
  } catch {
    return undefined;
  }
}

function hex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

function children(b: asn1js.AsnType | undefined, what: string): asn1js.AsnType[] {
  if (!(b instanceof asn1js.Constructed)) throw new Malformed(what);
  return b.valueBlock.value;
}

const isContext = (b: asn1js.AsnType | undefined, n: number): boolean =>
  b !== undefined && b.idBlock.tagClass === 3 && b.idBlock.tagNumber === n;

function octets(b: asn1js.AsnType | undefined, what: string): Uint8Array {
  // A constructed (BER) OCTET STRING has no direct value; DER requires the primitive form.
  if (!(b instanceof asn1js.OctetString) || b.valueBlock.isConstructed) throw new Malformed(what);
  return b.valueBlock.valueHexView;
}

function oidOf(b: asn1js.AsnType | undefined, what: string): string {
  if (!(b instanceof asn1js.ObjectIdentifier)) throw new Malformed(what);
  return b.getValue();
}

function serialOf(b: asn1js.AsnType | undefined): string {
  if (!(b instanceof asn1js.Integer) || b.valueBlock.valueHexView.length === 0) throw new Malformed("serialNumber");
  let v = b.valueBlock.valueHexView;
  while (v.length > 1 && v[0] === 0) v = v.subarray(1);
  return hex(v);
}

/** CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash OCTET STRING, issuerKeyHash OCTET STRING, serialNumber } */
function certId(b: asn1js.AsnType | undefined): OcspCertId {
  const [alg, nameHash, keyHash, serial] = children(b, "CertID");
  const algOid = oidOf(children(alg, "hashAlgorithm")[0], "hashAlgorithm");
  const hashAlgorithm = algOid === OID_SHA1 ? "sha1" : algOid === OID_SHA256 ? "sha256" : "other";
  const name = octets(nameHash, "issuerNameHash");
  const key = octets(keyHash, "issuerKeyHash");
  if (hashAlgorithm !== "other" && (name.length !== HASH_LENGTH[hashAlgorithm] || key.length !== HASH_LENGTH[hashAlgorithm])) {
    throw new Malformed("hash length");
  }
  return { hashAlgorithm, issuerNameHash: hex(name), issuerKeyHash: hex(key), serial: serialOf(serial) };
}

/** Extensions ::= SEQUENCE OF Extension { extnID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING } */
function findNonce(exts: asn1js.AsnType | undefined): Uint8Array | undefined {
  for (const ext of children(exts, "Extensions")) {
    const parts = children(ext, "Extension");
    if (oidOf(parts[0], "extnID") !== OID_NONCE) continue;
    const value = octets(parts[parts.length - 1], "extnValue");
    // RFC 8954 wraps the nonce in an OCTET STRING; some old clients put raw bytes in extnValue.
    const inner = decodeWhole(value);
    if (inner instanceof asn1js.OctetString && !inner.valueBlock.isConstructed) return inner.valueBlock.valueHexView.slice();
    return value.slice();
  }
  return undefined;
}

/**
 * Parses an OCSPRequest (RFC 6960 §4.1.1). Signed requests are accepted and their signature
 * ignored (a pre-signed responder answers the same bytes to anyone). Anything that is not a
 * well-formed request with at least one CertID is "malformed", to be answered OCSP_MALFORMED_REQUEST.
 */
export function parseOcspRequest(der: Uint8Array): Result<OcspRequest, "malformed"> {
  try {
    const [tbsRequest] = children(decodeWhole(der), "OCSPRequest"); // also rejects trailing bytes
    let fields = children(tbsRequest, "TBSRequest");
    // Skip version [0] and requestorName [1].
    while (isContext(fields[0], 0) || isContext(fields[0], 1)) fields = fields.slice(1);
    const [requestList, extsTagged] = fields;
    if (!(requestList instanceof asn1js.Sequence)) return err("malformed");
    const certIds = requestList.valueBlock.value.map((req) => certId(children(req, "Request")[0]));
    if (certIds.length === 0) return err("malformed");
    const nonce = isContext(extsTagged, 2) ? findNonce(children(extsTagged, "requestExtensions")[0]) : undefined;
    return ok(nonce ? { certIds, nonce } : { certIds });
  } catch (e) {
    if (e instanceof Malformed) return err("malformed");
    throw e;
  }
}

/**
 * The GET form (RFC 6960 Appendix A.1): everything after the responder's base path, without the
 * leading slash, is the URL-encoded base64 of the DER request. Clients that do not percent-encode
 * send raw "+" and "/" (the "/" then splits the path: pass the whole rest of it). URL-safe
 * base64 ("-", "_") and missing padding are tolerated. Returns undefined when it is not base64.
 */
export function decodeOcspGetPath(pathSegment: string): Uint8Array | undefined {
  let text: string;
  try {
    text = decodeURIComponent(pathSegment);
  } catch {
    return undefined; // broken percent-encoding
  }
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  if (b64.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  let binary: string;
  try {
    binary = atob(b64);
  } catch {
    return undefined; // impossible length (4n+1)
  }
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}
