/**
 * Just enough DER to read the first SingleResponse of an OCSP response (RFC 6960): its serial and
 * certStatus. The load test checks every answer with it; signatures are not checked here.
 */
interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function readTlv(buf: Uint8Array, pos: number): Tlv {
  const tag = buf[pos];
  let len = buf[pos + 1];
  if (tag === undefined || len === undefined) throw new Error("truncated DER");
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (buf[start + i] ?? 0);
    start += n;
  }
  if (start + len > buf.length) throw new Error("truncated DER");
  return { tag, start, end: start + len };
}

function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = parent.start; pos < parent.end; pos = out[out.length - 1]!.end) out.push(readTlv(buf, pos));
  return out;
}

function child(buf: Uint8Array, parent: Tlv, index: number, tag: number): Tlv {
  const c = children(buf, parent)[index];
  if (!c || c.tag !== tag) throw new Error(`unexpected DER at child ${index} (want tag 0x${tag.toString(16)})`);
  return c;
}

export type OcspCertStatus = "good" | "revoked" | "unknown";

export function readOcspStatus(der: Uint8Array): { serial: string; status: OcspCertStatus } {
  const top = readTlv(der, 0);
  const responseStatus = child(der, top, 0, 0x0a);
  if (der[responseStatus.start] !== 0) throw new Error(`OCSP responseStatus ${der[responseStatus.start]}`);
  const responseBytes = child(der, child(der, top, 1, 0xa0), 0, 0x30);
  const basicDer = child(der, responseBytes, 1, 0x04);
  const basic = readTlv(der, basicDer.start);
  const tbs = child(der, basic, 0, 0x30);
  // tbsResponseData: [0] version?, responderID, producedAt, responses — the first SEQUENCE is `responses`.
  const responses = children(der, tbs).find((t) => t.tag === 0x30);
  if (!responses) throw new Error("OCSP response without responses");
  const single = child(der, responses, 0, 0x30);
  const certId = child(der, single, 0, 0x30);
  const serialTlv = child(der, certId, 3, 0x02);
  let serial = Buffer.from(der.subarray(serialTlv.start, serialTlv.end)).toString("hex");
  if (serial.startsWith("00") && serial.length > 2) serial = serial.slice(2);
  const statusTag = children(der, single)[1]?.tag;
  const status = statusTag === 0x80 ? "good" : statusTag === 0xa1 ? "revoked" : statusTag === 0x82 ? "unknown" : undefined;
  if (!status) throw new Error(`unexpected certStatus tag ${statusTag}`);
  return { serial, status };
}
