import * as asn1js from "asn1js";
import { err, ok, type Result } from "@kakunin/shared";
import type { KeyManager, KeyManagerError } from "../kms/types.ts";
import { signVerified } from "../kms/verified-sign.ts";
import { x509 } from "./x509.ts";

const SHA256_RSA = "1.2.840.113549.1.1.11";
/** PKCS#9 extensionRequest (RFC 2985 §5.4.2): the extensions the requester asks for. */
const EXTENSION_REQUEST = "1.2.840.113549.1.9.14";

function raw(der: ArrayBuffer | Uint8Array): asn1js.AsnType {
  const parsed = asn1js.fromBER(der instanceof Uint8Array ? der.slice().buffer : der);
  if (parsed.offset === -1) throw new Error("invalid DER embedded in a CSR");
  return parsed.result;
}

export interface CsrInput {
  subject: x509.Name;
  /** DER SubjectPublicKeyInfo of the key in the KeyManager. */
  spki: Uint8Array;
  /** Asked for in an extensionRequest attribute, so `openssl x509 -req -copy_extensions copyall` applies the profile. */
  extensions: x509.Extension[];
  /** KeyManager reference of the key that signs the request (proof of possession). */
  keyRef: string;
}

/**
 * A PKCS#10 certificate signing request (RFC 2986) for a key that lives in the KeyManager: the
 * CertificationRequestInfo is assembled with asn1js (as the TBSCertificate is, tbs.ts) and signed
 * by one KeyManager call, so the private key never leaves the KMS or HSM.
 */
export async function signCsr(keys: KeyManager, c: CsrInput): Promise<Result<string, KeyManagerError>> {
  const info = new asn1js.Sequence({
    value: [
      new asn1js.Integer({ value: 0 }),
      raw(c.subject.toArrayBuffer()),
      raw(c.spki),
      new asn1js.Constructed({
        idBlock: { tagClass: 3, tagNumber: 0 },
        value: [
          new asn1js.Sequence({
            value: [
              new asn1js.ObjectIdentifier({ value: EXTENSION_REQUEST }),
              new asn1js.Set({ value: [new asn1js.Sequence({ value: c.extensions.map((e) => raw(e.rawData)) })] }),
            ],
          }),
        ],
      }),
    ],
  });
  const infoDer = new Uint8Array(info.toBER(false));
  const signature = await signVerified(keys, c.keyRef, infoDer, c.spki);
  if (!signature.ok) return err(signature.error);
  const csr = new asn1js.Sequence({
    value: [
      raw(infoDer),
      new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: SHA256_RSA }), new asn1js.Null()] }),
      new asn1js.BitString({ valueHex: signature.value.slice().buffer, unusedBits: 0 }),
    ],
  });
  return ok(new x509.Pkcs10CertificateRequest(new Uint8Array(csr.toBER(false))).toString("pem") + "\n");
}
