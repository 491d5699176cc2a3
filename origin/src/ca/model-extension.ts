import * as asn1js from "asn1js";
import { x509 } from "./x509.ts";

/**
 * Kakunin agent-model extension (non-critical). OID is a UUID-derived arc under 2.25 (ITU-T X.667),
 * which needs no registration and cannot collide:
 *
 *   id-kakunin-agentModel OBJECT IDENTIFIER ::= { 2 25 288055981621491828329580201972659625695 }
 *   KakuninAgentModel ::= SEQUENCE {
 *     name          UTF8String (SIZE (1..128)),
 *     version       UTF8String (SIZE (1..64)),
 *     hashAlgorithm OBJECT IDENTIFIER,   -- id-sha256 2.16.840.1.101.3.4.2.1
 *     hashValue     OCTET STRING (SIZE (32)) }
 *
 * It binds the certificate to the exact weights/prompt/config the agent runs: a new model hash means
 * a new certificate. Documented in docs/certificate-profile.md.
 */
export const AGENT_MODEL_OID = "2.25.288055981621491828329580201972659625695";
const SHA256_OID = "2.16.840.1.101.3.4.2.1";

export interface AgentModel {
  name: string;
  version: string;
  /** `sha256:<64 hex>` */
  hash: string;
}

export function encodeAgentModel(model: AgentModel): Uint8Array {
  const hex = model.hash.replace(/^sha256:/, "");
  const seq = new asn1js.Sequence({
    value: [
      new asn1js.Utf8String({ value: model.name }),
      new asn1js.Utf8String({ value: model.version }),
      new asn1js.ObjectIdentifier({ value: SHA256_OID }),
      new asn1js.OctetString({ valueHex: Buffer.from(hex, "hex") }),
    ],
  });
  return new Uint8Array(seq.toBER(false));
}

export function decodeAgentModel(der: Uint8Array): AgentModel | undefined {
  const parsed = asn1js.fromBER(der.slice().buffer);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Sequence)) return undefined;
  const [name, version, alg, value] = parsed.result.valueBlock.value;
  if (
    !(name instanceof asn1js.Utf8String) || !(version instanceof asn1js.Utf8String) ||
    !(alg instanceof asn1js.ObjectIdentifier) || !(value instanceof asn1js.OctetString) ||
    alg.valueBlock.toString() !== SHA256_OID
  ) {
    return undefined;
  }
  const hash = Buffer.from(value.valueBlock.valueHexView).toString("hex");
  return { name: name.valueBlock.value, version: version.valueBlock.value, hash: `sha256:${hash}` };
}

/** DER of the OID itself, the form extensions are matched by. */
const OID_DER_HEX = Buffer.from(new asn1js.ObjectIdentifier({ value: AGENT_MODEL_OID }).toBER(false)).toString("hex");

/**
 * Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE (omitted), extnValue OCTET STRING }.
 * Encoded with asn1js: @peculiar/x509's string-OID path mis-encodes arcs above 2^53.
 */
export function agentModelExtension(model: AgentModel): x509.Extension {
  const der = new asn1js.Sequence({
    value: [
      new asn1js.ObjectIdentifier({ value: AGENT_MODEL_OID }),
      new asn1js.OctetString({ valueHex: encodeAgentModel(model) }),
    ],
  }).toBER(false);
  return new x509.Extension(der);
}

/**
 * The agent-model extension of a certificate, if present. Read from the certificate's own DER with
 * asn1js: @peculiar/x509 re-serialises parsed extensions and corrupts OIDs with arcs above 2^53.
 */
export function readAgentModel(certDer: ArrayBuffer | Uint8Array): { critical: boolean; model: AgentModel | undefined } | undefined {
  const buf = certDer instanceof Uint8Array ? certDer.slice().buffer : certDer;
  const cert = asn1js.fromBER(buf).result;
  const tbs = cert instanceof asn1js.Sequence ? cert.valueBlock.value[0] : undefined;
  if (!(tbs instanceof asn1js.Sequence)) return undefined;
  const extsTagged = tbs.valueBlock.value.find((v) => v.idBlock.tagClass === 3 && v.idBlock.tagNumber === 3);
  const exts = extsTagged instanceof asn1js.Constructed ? extsTagged.valueBlock.value[0] : undefined;
  if (!(exts instanceof asn1js.Sequence)) return undefined;
  for (const ext of exts.valueBlock.value) {
    if (!(ext instanceof asn1js.Sequence)) continue;
    const [oid, second, third] = ext.valueBlock.value;
    if (!(oid instanceof asn1js.ObjectIdentifier)) continue;
    if (Buffer.from(oid.toBER(false)).toString("hex") !== OID_DER_HEX) continue;
    const critical = second instanceof asn1js.Boolean ? second.valueBlock.value : false;
    const value = second instanceof asn1js.OctetString ? second : third;
    if (!(value instanceof asn1js.OctetString)) return { critical, model: undefined };
    return { critical, model: decodeAgentModel(new Uint8Array(value.valueBlock.valueHexView)) };
  }
  return undefined;
}
