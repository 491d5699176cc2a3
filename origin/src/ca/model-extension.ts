import * as asn1js from "asn1js";
import { kakuninOids, LEGACY_AGENT_MODEL_OID } from "@kakunin/shared";
import { x509 } from "./x509.ts";

/**
 * Kakunin agent-model extension (non-critical), under the small-arc Kakunin OID arc
 * (`shared/src/oids.ts`, default `1.3.6.1.4.1.32473.1.1`, configurable with KAKUNIN_OID_ARC):
 *
 *   id-kakunin-agentModel OBJECT IDENTIFIER ::= { <arc> 1 }
 *   KakuninAgentModel ::= SEQUENCE {
 *     name          UTF8String (SIZE (1..128)),
 *     version       UTF8String (SIZE (1..64)),
 *     hashAlgorithm OBJECT IDENTIFIER,   -- id-sha256 2.16.840.1.101.3.4.2.1
 *     hashValue     OCTET STRING (SIZE (32)) }
 *
 * It binds the certificate to the exact weights/prompt/config the agent runs: a new model hash means
 * a new certificate. The same hash is also carried as a SAN URI (`modelUrn`) for relying parties
 * without Kakunin code. Certificates issued before the small arc carry the same value under
 * LEGACY_AGENT_MODEL_OID (a 128-bit 2.25 arc); `readAgentModel` reads both.
 * Documented in docs/certificate-profile.md.
 */
const SHA256_OID = "2.16.840.1.101.3.4.2.1";

export { LEGACY_AGENT_MODEL_OID };

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

/**
 * The model hash as a URI (RFC 3986 URN form, lowercase hex) for the subjectAltName: any X.509
 * library exposes SAN URIs, so a gateway with no Kakunin code can pin the model.
 */
export function modelUrn(model: AgentModel): string {
  return `urn:kakunin:model:sha256:${model.hash.replace(/^sha256:/, "").toLowerCase()}`;
}

/** Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE (omitted), extnValue OCTET STRING }. */
export function agentModelExtension(model: AgentModel, oid: string = kakuninOids().agentModelExtension): x509.Extension {
  return new x509.Extension(oid, false, encodeAgentModel(model));
}

function oidDerHex(oid: string): string {
  return Buffer.from(new asn1js.ObjectIdentifier({ value: oid }).toBER(false)).toString("hex");
}

/**
 * The agent-model extension of a certificate, if present, under any of `oids` (by default the
 * default small-arc OID and the legacy 2.25 OID). Read from the certificate's own DER with asn1js
 * and matched on the OID's DER bytes: @peculiar/x509 re-serialises parsed extensions and corrupts
 * OIDs with arcs above 2^53, which legacy certificates carry.
 */
export function readAgentModel(
  certDer: ArrayBuffer | Uint8Array,
  oids: readonly string[] = [kakuninOids().agentModelExtension, LEGACY_AGENT_MODEL_OID],
): { critical: boolean; model: AgentModel | undefined; oid: string } | undefined {
  const wanted = new Map(oids.map((o) => [oidDerHex(o), o]));
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
    const matched = wanted.get(Buffer.from(oid.toBER(false)).toString("hex"));
    if (!matched) continue;
    const critical = second instanceof asn1js.Boolean ? second.valueBlock.value : false;
    const value = second instanceof asn1js.OctetString ? second : third;
    if (!(value instanceof asn1js.OctetString)) return { critical, model: undefined, oid: matched };
    return { critical, model: decodeAgentModel(new Uint8Array(value.valueBlock.valueHexView)), oid: matched };
  }
  return undefined;
}
